"""What every route needs from ``create_app``: one frozen ``WebContext`` on ``app.state``.

Routes take it as ``ctx: Ctx`` and a database session as ``session: Db`` (FastAPI
dependencies); nothing here is per request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader
from markdown_it import MarkdownIt
from sqlmodel import Session

from reelfactory import accounts as acc
from reelfactory import orchestration as orch
from reelfactory.brand import list_brand_ids
from reelfactory.db import session_for
from reelfactory.models import AspectRatio, Brief
from reelfactory.settings import Settings

HERE = Path(__file__).parent
JSON_LIMIT = 1 * 2**20  # API bodies and plain forms
MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")
# Concurrent flow-run creation on a SQLite Prefect server locks its database; Prefect's
# client then backs off for seconds. A few at a time keeps the queue here instead.
TRIGGERS_AT_ONCE = 4

Submit = Callable[[Brief], str]
Binding = Callable[[], AbstractContextManager[object]]


@dataclass(frozen=True)
class WebContext:
    """The app's configuration and collaborators, shared by every request."""

    settings: Settings
    submit: Submit  # starts a brief's run, returns its flow-run id
    bound: Binding  # wrap every Prefect call in ``with ctx.bound():``
    templates: Environment
    ui_base: str  # the Prefect UI's base URL, or ""
    upload_limit: int  # bytes per reference image
    campaign_deployment: str

    def page(self, name: str, request: Request, status_code: int = 200, **ctx: Any) -> HTMLResponse:
        html = self.templates.get_template(name).render(
            request=request, ui_base=self.ui_base, **ctx
        )
        return HTMLResponse(html, status_code=status_code)

    def brands_for(self, user: acc.User, *, submit_only: bool) -> list[str]:
        brands = list_brand_ids(self.settings.brand_kits_dir)
        return user.submit_brands(brands) if submit_only else user.visible_brands(brands)


def templates() -> Environment:
    """The Jinja2 environment for ``templates/`` (autoescaped, with a markdown filter)."""
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True)
    env.filters["markdown"] = MARKDOWN.render
    env.globals["ratios"] = [r.value for r in AspectRatio]
    return env


def prefect_binding() -> Binding:
    """Bind Prefect calls to the API this app was created under.

    Prefect's settings live in a context variable, and request handlers run on other
    threads: without this they would fall back to the process-wide default API. The bound
    settings are built once here (building them per request cost ~80 ms of CPU).
    """
    import prefect.context
    from prefect.settings import PREFECT_API_URL

    api_url = PREFECT_API_URL.value()
    if not api_url:
        return nullcontext
    context = prefect.context.get_settings_context()
    bound = context.settings.copy_with_update(updates={PREFECT_API_URL: api_url})
    return lambda: prefect.context.SettingsContext(profile=context.profile, settings=bound)


def default_submit(deployment: str, bound: Binding) -> Submit:
    gate = threading.BoundedSemaphore(TRIGGERS_AT_ONCE)

    def submit(brief: Brief) -> str:
        # The brief id is content-derived: a double click starts one run, not two.
        with gate, bound():
            return orch.submit(brief, deployment=deployment, idempotency_key=brief.brief_id)

    return submit


# --------------------------------------------------------------------------- dependencies
# Module level: FastAPI resolves (string) annotations in the module's namespace.


def web_context(request: Request) -> WebContext:
    web: WebContext = request.app.state.web
    return web


Ctx = Annotated[WebContext, Depends(web_context)]


def db(ctx: Ctx) -> Iterator[Session]:
    with session_for(ctx.settings.db_url) as session:
        yield session


Db = Annotated[Session, Depends(db)]
