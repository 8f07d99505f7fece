"""Request-level protections: body size caps, security headers, CSRF comparison. No routes."""

from __future__ import annotations

import hmac
from collections.abc import AsyncGenerator, Awaitable, Callable, MutableMapping
from contextlib import aclosing
from typing import Any
from urllib.parse import unquote_plus

from python_multipart.multipart import parse_options_header
from starlette.datastructures import FormData, Headers
from starlette.formparsers import FormParser, MultiPartException, MultiPartParser

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyTooLarge(Exception):
    pass


class BodyLimit:
    """Refuse a request body over ``limit_for(path)`` bytes with 413, whether or not it
    declares a Content-Length (chunked bodies are counted as they arrive)."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(send, limit)
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except BodyTooLarge:
            if not started:
                await _too_large(send, limit)


async def _too_large(send: Send, limit: int) -> None:
    body = f"Request body is larger than {limit / 2**20:.1f} MiB.".encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class FieldTooLarge(MultiPartException):
    """A form field over the per-field limit; ``field`` names it."""

    def __init__(self, field: str, limit: int) -> None:
        self.field = field
        super().__init__(f"{field}: larger than {limit // 1024} KiB")


class _NamedMultiPart(MultiPartParser):
    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        try:
            super().on_part_data(data, start, end)
        except MultiPartException:
            raise FieldTooLarge(self._current_part.field_name, self.max_part_size) from None


class _NamedUrlEncoded(FormParser):
    def on_field_data(self, data: bytes, start: int, end: int) -> None:
        try:
            super().on_field_data(data, start, end)
        except MultiPartException:
            name = unquote_plus(self._field_name.decode("latin-1"))
            raise FieldTooLarge(name, self.max_part_size) from None


async def read_form(
    headers: Headers,
    stream: AsyncGenerator[bytes, None],
    *,
    max_files: int,
    max_fields: int,
    max_part_size: int,
) -> FormData:
    """Starlette's ``request.form()``, except that a text field over ``max_part_size``
    raises ``FieldTooLarge`` naming the field; other problems raise ``MultiPartException``."""
    kind, _ = parse_options_header(headers.get("content-type"))
    async with aclosing(stream) as body:
        if kind == b"multipart/form-data":
            return await _NamedMultiPart(
                headers,
                body,
                max_files=max_files,
                max_fields=max_fields,
                max_part_size=max_part_size,
            ).parse()
        if kind == b"application/x-www-form-urlencoded":
            return await _NamedUrlEncoded(
                headers, body, max_fields=max_fields, max_part_size=max_part_size
            ).parse()
    return FormData()


def security_headers(media_sources: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"media-src {media_sources}; frame-ancestors 'none'; form-action 'self'; "
            "base-uri 'none'; object-src 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
    }


def same_token(sent: str | None, expected: str) -> bool:
    return bool(sent) and hmac.compare_digest(str(sent).encode(), expected.encode())
