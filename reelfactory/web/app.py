"""The FastAPI app: login, the brief form, brief pages, and ``/api/v1`` for tools.

HTML is rendered on the server (Jinja2, autoescaped); the only script polls a brief's
state. Every page but login needs a session; every form carries a CSRF token; the API
takes ``Authorization: Bearer <token>`` (``reel users token EMAIL``).

Here: ``create_app`` (middleware, the login redirect, the routers) and ``serve``. The
routes: ``auth_routes`` (sign-in), ``pages`` (HTML), ``api`` (``/api/v1``); what they
share per app: ``context.WebContext``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlparse

from fastapi import FastAPI, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from reelfactory import orchestration as orch
from reelfactory.db import init_db
from reelfactory.models import MAX_REFERENCES
from reelfactory.settings import Settings
from reelfactory.web import api, auth_routes, pages
from reelfactory.web.auth_routes import LoginRequired
from reelfactory.web.context import (
    HERE,
    JSON_LIMIT,
    WebContext,
    default_submit,
    prefect_binding,
    templates,
)
from reelfactory.web.security import BodyLimit, security_headers


def create_app(
    settings: Settings | None = None,
    *,
    deployment: str = orch.DEPLOYMENT,
    campaign_deployment: str = orch.CAMPAIGN_DEPLOYMENT,
) -> FastAPI:
    """The app for one installation; ``init_db`` brings its schema to head first."""
    settings = settings or Settings()
    init_db(settings.db_url)
    bound = prefect_binding()
    upload_limit = int(settings.web_upload_max_mib * 2**20)
    media_sources = "'self'" + (
        f" {_origin(settings.s3_endpoint_url)}" if settings.s3_endpoint_url else " https:"
    )
    headers = security_headers(media_sources)

    app = FastAPI(
        title="reelfactory",
        summary="Submit video briefs and track them to publication.",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    app.state.settings = settings
    app.state.web = WebContext(
        settings=settings,
        submit=default_submit(deployment, bound),
        bound=bound,
        templates=templates(),
        ui_base=settings.prefect_ui_url
        or os.environ.get("PREFECT_API_URL", "").removesuffix("/api"),
        upload_limit=upload_limit,
        campaign_deployment=campaign_deployment,
    )
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    def body_limit(path: str) -> int:
        if path in ("/briefs", "/api/v1/briefs"):
            return MAX_REFERENCES * upload_limit + JSON_LIMIT
        return JSON_LIMIT

    app.add_middleware(BodyLimit, limit_for=body_limit)

    @app.middleware("http")
    async def add_headers(request: Request, call_next: Callable[..., Any]) -> Response:
        response: Response = await call_next(request)
        for k, v in headers.items():
            response.headers.setdefault(k, v)
        if request.url.path != "/static/app.js":
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(f"/login?next={quote(exc.next_path)}", status_code=303)

    app.include_router(auth_routes.router)
    app.include_router(pages.router)
    app.include_router(api.router)
    return app


def _origin(url: str) -> str:
    p = urlparse(url)
    return f"{p.scheme}://{p.netloc}"


def serve(
    settings: Settings,
    *,
    host: str | None = None,
    port: int | None = None,
    app: FastAPI | None = None,
) -> None:
    """Run the app with uvicorn until interrupted (``reel web``, ``reel up``)."""
    import uvicorn

    uvicorn.run(
        app or create_app(settings),
        host=host or settings.web_host,
        port=port if port is not None else settings.web_port,
        proxy_headers=bool(settings.web_trusted_proxies),
        forwarded_allow_ips=",".join(settings.web_trusted_proxies) or None,
        log_level="info",
    )
