"""Who is asking: sign-in (password or a trusted proxy's SSO header), sign-out, the
``WebUser`` session dependency and CSRF checks; also ``/healthz`` and ``/``."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Annotated
from urllib.parse import urlparse

from fastapi import APIRouter, Depends, Form, HTTPException, Request, Response
from fastapi.responses import RedirectResponse
from sqlmodel import Session

from reelfactory import accounts as acc
from reelfactory.settings import Settings
from reelfactory.web.context import Ctx, Db, WebContext
from reelfactory.web.security import same_token

log = logging.getLogger(__name__)
SESSION_COOKIE = "reel_session"
LOGIN_CSRF_COOKIE = "reel_login_csrf"

router = APIRouter()


class LoginRequired(Exception):
    """No valid session: ``create_app`` answers with a redirect to the login page."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


# --------------------------------------------------------------------------- dependencies


def web_session(request: Request, session: Db) -> acc.WebSession:
    token = request.cookies.get(SESSION_COOKIE)
    ws = acc.resume_session(session, token) if token else None
    session.close()  # give the connection back: the request may now wait on Prefect
    if ws is None:
        raise LoginRequired(_local_path(str(request.url.path)))
    return ws


WebUser = Annotated[acc.WebSession, Depends(web_session)]


def require_csrf(ws: acc.WebSession, sent: str | None) -> None:
    if not same_token(sent, ws.csrf_token):
        raise HTTPException(403, "missing or wrong CSRF token: reload the page and retry")


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# --------------------------------------------------------------------------- routes


@router.get("/login", include_in_schema=False)
def login_page(request: Request, session: Db, ctx: Ctx, next: str = "/briefs") -> Response:
    if (user := sso_user(ctx, request, session)) is not None:
        ws = acc.start_session(session, user, _lifetime(ctx.settings), via="sso")
        return signed_in(ctx, ws, next, request)
    return login_form(ctx, request, _local_path(next))


@router.post("/login", include_in_schema=False)
def login(
    request: Request,
    session: Db,
    ctx: Ctx,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/briefs",
) -> Response:
    settings = ctx.settings
    if not same_token(csrf_token, request.cookies.get(LOGIN_CSRF_COOKIE, "")):
        raise HTTPException(403, "missing or wrong CSRF token: reload the login page")
    client = client_of(request)
    window = timedelta(seconds=settings.web_login_window_s)
    if acc.login_throttled(
        acc.recent_failures(session, email, client, window), settings.web_login_attempts
    ):
        response = login_form(
            ctx,
            request,
            next,
            f"Too many failed sign-ins. Try again in {settings.web_login_window_s // 60} minutes.",
            email,
            429,
        )
        response.headers["Retry-After"] = str(settings.web_login_window_s)
        return response
    user = acc.check_password(session, email, password)
    acc.record_login(session, email, client, ok=user is not None)
    if user is None:
        log.info("failed sign-in from %s", client)
        return login_form(ctx, request, next, "Wrong email or password.", email, 401)
    return signed_in(
        ctx, acc.start_session(session, user, _lifetime(settings), "password"), next, request
    )


@router.post("/logout", include_in_schema=False)
def logout(
    request: Request, ws: WebUser, session: Db, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    require_csrf(ws, csrf_token)
    acc.end_session(session, ws.token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/healthz", include_in_schema=False)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/", include_in_schema=False)
def home(ws: WebUser) -> Response:
    return RedirectResponse("/briefs", status_code=303)


# --------------------------------------------------------------------------- helpers


def sso_user(ctx: WebContext, request: Request, session: Session) -> acc.User | None:
    """The user a trusted proxy vouches for in ``web_sso_header``, if any."""
    if client_of(request) not in ctx.settings.web_trusted_proxies:
        return None
    email = request.headers.get(ctx.settings.web_sso_header, "").strip()
    return acc.user_by_email(session, email) if email else None


def signed_in(ctx: WebContext, ws: acc.WebSession, next_path: str, request: Request) -> Response:
    response = RedirectResponse(_local_path(next_path), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        ws.token,
        max_age=int(ctx.settings.web_session_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=_secure(request, ctx.settings),
        path="/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


def login_form(
    ctx: WebContext,
    request: Request,
    next_path: str,
    error: str = "",
    email: str = "",
    code: int = 200,
) -> Response:
    import secrets

    token = secrets.token_urlsafe(32)
    response = ctx.page(
        "login.html", request, code, csrf=token, next=next_path, error=error, email=email
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=_secure(request, ctx.settings),
        path="/login",
    )
    return response


def _local_path(path: str) -> str:
    """Only same-site paths as redirect targets: no open redirects through ?next=."""
    parsed = urlparse(path)
    if parsed.scheme or parsed.netloc or not path.startswith("/") or path.startswith("//"):
        return "/briefs"
    return path


def _secure(request: Request, settings: Settings) -> bool:
    return settings.web_secure_cookies == "always" or request.url.scheme == "https"


def _lifetime(settings: Settings) -> timedelta:
    return timedelta(hours=settings.web_session_hours)
