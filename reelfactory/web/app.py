"""The FastAPI app: login, the brief form, brief pages, and ``/api/v1`` for tools.

HTML is rendered on the server (Jinja2, autoescaped); the only script polls a brief's
state. Every page but login needs a session; every form carries a CSRF token; the API
takes ``Authorization: Bearer <token>`` (``reel users token EMAIL``).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlparse

from fastapi import Depends, FastAPI, Form, HTTPException, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader
from markdown_it import MarkdownIt
from pydantic import BaseModel, Field, ValidationError
from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.datastructures import UploadFile as StarletteUpload
from starlette.formparsers import MultiPartException

from reelfactory import accounts as acc
from reelfactory import orchestration as orch
from reelfactory.brand import brand_kit_by_id, list_brand_ids
from reelfactory.db import init_db, session_for
from reelfactory.errors import InputError, ModerationBlocked
from reelfactory.expand import TemplateExpander
from reelfactory.formats import list_formats, load_format
from reelfactory.intake import plan, shape, shot_list_rows
from reelfactory.models import (
    MAX_REFERENCES,
    AspectRatio,
    AssetRef,
    Brief,
    ModerationReport,
    ShotList,
)
from reelfactory.settings import Settings
from reelfactory.web import forms
from reelfactory.web.runs import run_facts, view
from reelfactory.web.security import (
    BodyLimit,
    FieldTooLarge,
    read_form,
    same_token,
    security_headers,
)
from reelfactory.web.status import PHASES, Status, status_of
from reelfactory.web.uploads import CheckedImage, UploadRejected, accept_reference, check_image

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
SESSION_COOKIE = "reel_session"
LOGIN_CSRF_COOKIE = "reel_login_csrf"
JSON_LIMIT = 1 * 2**20  # API bodies and plain forms
MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")

Submit = Callable[[Brief], str]


class FormRefused(Exception):
    """The brief form goes back to the user with these errors by field."""

    def __init__(self, errors: dict[str, list[str]], status: int = 422) -> None:
        super().__init__(errors)
        self.errors = errors
        self.status = status


class LoginRequired(Exception):
    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


# --------------------------------------------------------------------------- API schemas


class FieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    detail: str
    errors: list[FieldError] = Field(default_factory=list)


class BriefCreated(BaseModel):
    brief_id: str
    flow_run_id: str
    url: str


class PublicationOut(BaseModel):
    aspect_ratio: str
    key: str
    sha256: str
    duration_s: float
    width: int
    height: int
    video_url: str
    captions_url: str


class BriefOut(BaseModel):
    brief_id: str
    brand: str
    campaign: str
    title: str
    submitted_by: str
    submitted_at: datetime
    flow_run_id: str
    phase: str
    detail: str
    final: bool
    publications: list[PublicationOut] = Field(default_factory=list)


class CheckOut(BaseModel):
    verdict: str
    findings: list[str]
    shots: list[dict[str, Any]]


class CampaignStarted(BaseModel):
    campaign: str
    videos: int
    estimated_cost: float | None
    currency: str
    flow_run_id: str


# --------------------------------------------------------------------------- dependencies
# Module level: FastAPI resolves (string) annotations in the module's namespace.


def db(request: Request) -> Iterator[Session]:
    with session_for(request.app.state.settings.db_url) as session:
        yield session


Db = Annotated[Session, Depends(db)]


def web_session(request: Request, session: Db) -> acc.WebSession:
    token = request.cookies.get(SESSION_COOKIE)
    ws = acc.resume_session(session, token) if token else None
    session.close()  # give the connection back: the request may now wait on Prefect
    if ws is None:
        raise LoginRequired(_local_path(str(request.url.path)))
    return ws


WebUser = Annotated[acc.WebSession, Depends(web_session)]


def api_user(request: Request, session: Db) -> acc.User:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    user = acc.user_for_token(session, token.strip()) if scheme.lower() == "bearer" else None
    session.close()  # give the connection back: the request may now wait on Prefect
    if user is None:
        raise HTTPException(
            401, "a valid API token is required", headers={"WWW-Authenticate": "Bearer"}
        )
    return user


ApiUser = Annotated[acc.User, Depends(api_user)]


# --------------------------------------------------------------------------- the app


def prefect_binding() -> Callable[[], AbstractContextManager[object]]:
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


# Concurrent flow-run creation on a SQLite Prefect server locks its database; Prefect's
# client then backs off for seconds. A few at a time keeps the queue here instead.
TRIGGERS_AT_ONCE = 4


def default_submit(deployment: str, bound: Callable[[], AbstractContextManager[object]]) -> Submit:
    gate = threading.BoundedSemaphore(TRIGGERS_AT_ONCE)

    def submit(brief: Brief) -> str:
        # The brief id is content-derived: a double click starts one run, not two.
        with gate, bound():
            return orch.submit(brief, deployment=deployment, idempotency_key=brief.brief_id)

    return submit


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
    submit = default_submit(deployment, bound)
    upload_limit = int(settings.web_upload_max_mib * 2**20)
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True)
    env.filters["markdown"] = MARKDOWN.render
    env.globals["ratios"] = [r.value for r in AspectRatio]
    media_sources = "'self'" + (
        f" {_origin(settings.s3_endpoint_url)}" if settings.s3_endpoint_url else " https:"
    )
    headers = security_headers(media_sources)
    ui_base = settings.prefect_ui_url or os.environ.get("PREFECT_API_URL", "").removesuffix("/api")

    app = FastAPI(
        title="reelfactory",
        summary="Submit video briefs and track them to publication.",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    app.state.settings = settings
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

    # ------------------------------------------------------------------ dependencies

    def page(name: str, request: Request, status_code: int = 200, **ctx: Any) -> HTMLResponse:
        html = env.get_template(name).render(request=request, ui_base=ui_base, **ctx)
        return HTMLResponse(html, status_code=status_code)

    def brands_for(user: acc.User, *, submit_only: bool) -> list[str]:
        brands = list_brand_ids(settings.brand_kits_dir)
        return user.submit_brands(brands) if submit_only else user.visible_brands(brands)

    def formats() -> list[dict[str, Any]]:
        out = []
        for fid in list_formats(settings.templates_dir):
            fmt = load_format(settings.templates_dir, fid)
            out.append(
                {"id": fid, "min": fmt.timing.duration_s.min, "max": fmt.timing.duration_s.max}
            )
        return out

    def client_of(request: Request) -> str:
        return request.client.host if request.client else "unknown"

    def require_csrf(ws: acc.WebSession, sent: str | None) -> None:
        if not same_token(sent, ws.csrf_token):
            raise HTTPException(403, "missing or wrong CSRF token: reload the page and retry")

    def visible_row(session: Session, user: acc.User, brief_id: str) -> acc.BriefRow:
        row = acc.brief_row(session, brief_id)
        if row is None or not user.may_see(row.brand):
            raise HTTPException(404, f"no brief {brief_id!r} that you can see")
        return row

    def media_url(brief_id: str, pub_id: int | None, kind: str) -> str:
        return f"/briefs/{quote(brief_id)}/media/{pub_id}/{kind}"

    # ------------------------------------------------------------------ login

    def sso_user(request: Request, session: Session) -> acc.User | None:
        if client_of(request) not in settings.web_trusted_proxies:
            return None
        email = request.headers.get(settings.web_sso_header, "").strip()
        return acc.user_by_email(session, email) if email else None

    def signed_in(ws: acc.WebSession, next_path: str, request: Request) -> Response:
        response = RedirectResponse(_local_path(next_path), status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            ws.token,
            max_age=int(settings.web_session_hours * 3600),
            httponly=True,
            samesite="lax",
            secure=_secure(request, settings),
            path="/",
        )
        response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
        return response

    def login_form(
        request: Request, next_path: str, error: str = "", email: str = "", code: int = 200
    ) -> Response:
        import secrets

        token = secrets.token_urlsafe(32)
        response = page(
            "login.html", request, code, csrf=token, next=next_path, error=error, email=email
        )
        response.set_cookie(
            LOGIN_CSRF_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=_secure(request, settings),
            path="/login",
        )
        return response

    @app.get("/login", include_in_schema=False)
    def login_page(request: Request, session: Db, next: str = "/briefs") -> Response:
        if (user := sso_user(request, session)) is not None:
            ws = acc.start_session(session, user, _lifetime(settings), via="sso")
            return signed_in(ws, next, request)
        return login_form(request, _local_path(next))

    @app.post("/login", include_in_schema=False)
    def login(
        request: Request,
        session: Db,
        email: Annotated[str, Form(max_length=320)] = "",
        password: Annotated[str, Form(max_length=1024)] = "",
        csrf_token: Annotated[str, Form()] = "",
        next: Annotated[str, Form()] = "/briefs",
    ) -> Response:
        if not same_token(csrf_token, request.cookies.get(LOGIN_CSRF_COOKIE, "")):
            raise HTTPException(403, "missing or wrong CSRF token: reload the login page")
        client = client_of(request)
        window = timedelta(seconds=settings.web_login_window_s)
        if acc.login_throttled(
            acc.recent_failures(session, email, client, window), settings.web_login_attempts
        ):
            response = login_form(
                request,
                next,
                f"Too many failed sign-ins. Try again in {settings.web_login_window_s // 60} "
                "minutes.",
                email,
                429,
            )
            response.headers["Retry-After"] = str(settings.web_login_window_s)
            return response
        user = acc.check_password(session, email, password)
        acc.record_login(session, email, client, ok=user is not None)
        if user is None:
            log.info("failed sign-in from %s", client)
            return login_form(request, next, "Wrong email or password.", email, 401)
        return signed_in(
            acc.start_session(session, user, _lifetime(settings), "password"), next, request
        )

    @app.post("/logout", include_in_schema=False)
    def logout(
        request: Request, ws: WebUser, session: Db, csrf_token: Annotated[str, Form()] = ""
    ) -> Response:
        require_csrf(ws, csrf_token)
        acc.end_session(session, ws.token)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    # ------------------------------------------------------------------ pages

    @app.get("/", include_in_schema=False)
    def home(ws: WebUser) -> Response:
        return RedirectResponse("/briefs", status_code=303)

    @app.get("/briefs", include_in_schema=False)
    def list_page(
        request: Request,
        ws: WebUser,
        session: Db,
        brand: str = "",
        state: str = "",
        since: str = "",
        until: str = "",
    ) -> Response:
        visible = brands_for(ws.user, submit_only=False)
        try:
            rows = _listed(session, visible, brand, since, until)
        except ValueError as exc:
            return page(
                "list.html",
                request,
                422,
                ws=ws,
                rows=[],
                brands=visible,
                error=str(exc),
                filters={"brand": brand, "state": state, "since": since, "until": until},
                phases=PHASES,
            )
        with bound():
            statuses = _statuses(rows)
        listed = [(r, statuses[r.brief_id]) for r in rows]
        if state:
            listed = [(r, s) for r, s in listed if s.phase == state]
        return page(
            "list.html",
            request,
            ws=ws,
            rows=listed,
            brands=visible,
            error="",
            filters={"brand": brand, "state": state, "since": since, "until": until},
            phases=PHASES,
        )

    def form_page(
        request: Request,
        ws: acc.WebSession,
        values: forms.FormValues,
        *,
        errors: dict[str, list[str]] | None = None,
        check: dict[str, Any] | None = None,
        code: int = 200,
    ) -> HTMLResponse:
        return page(
            "brief_form.html",
            request,
            code,
            ws=ws,
            v=values,
            errors=errors or {},
            check=check,
            brands=brands_for(ws.user, submit_only=True),
            formats=formats(),
            slots=range(1, forms.TRANSLATION_SLOTS + 1),
            upload_mib=settings.web_upload_max_mib,
            max_references=MAX_REFERENCES,
        )

    @app.get("/briefs/new", include_in_schema=False)
    def new_brief(request: Request, ws: WebUser) -> Response:
        values = forms.form_values({})
        brands = brands_for(ws.user, submit_only=True)
        if not brands:
            raise HTTPException(403, "you may not submit briefs for any brand")
        values.update(brand=brands[0], format="social-teaser-15", duration_s="15", language="en")
        values["aspect_ratios"] = ["16:9"]
        return form_page(request, ws, values)

    @app.post("/briefs", include_in_schema=False)
    async def post_brief(request: Request, ws: WebUser) -> Response:
        try:
            form = await read_form(
                request.headers,
                request.stream(),
                max_files=MAX_REFERENCES,
                max_fields=100,
                max_part_size=JSON_LIMIT,
            )
        except FieldTooLarge as exc:
            raise HTTPException(
                413, f"{exc.field}: more than {JSON_LIMIT // 2**20} MiB of text; nothing was saved"
            ) from None
        except MultiPartException as exc:  # too many files or fields, a malformed body
            raise HTTPException(400, exc.message) from None
        require_csrf(ws, _str(form.get("csrf_token")))
        files = [
            f for f in form.getlist("references") if isinstance(f, StarletteUpload) and f.filename
        ]
        uploads = [(f.filename, await f.read(upload_limit + 1)) for f in files]
        await form.close()  # the spooled upload files; the text fields stay readable
        from starlette.concurrency import run_in_threadpool

        return await run_in_threadpool(handle_brief_form, request, ws, form, uploads)

    def handle_brief_form(
        request: Request,
        ws: acc.WebSession,
        form: FormData,
        uploads: list[tuple[str | None, bytes]],
    ) -> Response:
        values = forms.form_values(_multi(form))
        action = _str(form.get("action")) or "submit"
        payload = forms.brief_payload(values, submitted_by=ws.user.email)
        if payload["brand"] and not ws.user.may_submit(str(payload["brand"])):
            raise HTTPException(403, f"you may not submit briefs for brand {payload['brand']!r}")
        try:
            brief = Brief.model_validate(payload)
        except ValidationError as exc:
            return form_page(
                request, ws, values, errors=forms.validation_errors(exc, values), code=422
            )
        try:
            images = checked_images(uploads)
            if action == "check":
                return form_page(request, ws, values, check=check_brief(brief, values))
            final, run_id = submit_brief(brief, images, values)
        except FormRefused as exc:
            return form_page(request, ws, values, errors=exc.errors, code=exc.status)
        with session_for(settings.db_url) as session:
            row = acc.save_brief(session, final, run_id)
        return RedirectResponse(f"/briefs/{quote(row.brief_id)}", status_code=303)

    def checked_images(uploads: list[tuple[str | None, bytes]]) -> list[CheckedImage]:
        """Every upload read as an image (content, size, dimensions), nothing stored yet."""
        try:
            return [check_image(data, name, upload_limit) for name, data in uploads]
        except UploadRejected as exc:
            raise FormRefused({"references": [str(exc)]}, 413 if exc.too_large else 422) from None

    def check_brief(brief: Brief, values: forms.FormValues) -> dict[str, Any]:
        """'Check': text moderation and expansion, as the run will do them. Saves nothing."""
        try:
            result = plan(brief, settings)
        except ModerationBlocked as exc:
            raise FormRefused({forms.ROOT: [str(exc)]}) from None
        except InputError as exc:
            raise FormRefused(forms.problem_errors(exc.problems, values)) from None
        return _check_view(result.shot_list, result.report)

    def submit_brief(
        brief: Brief, images: list[CheckedImage], values: forms.FormValues
    ) -> tuple[Brief, str]:
        """Check the brief's shape against its format, moderate and store the reference
        images, start the run. Nothing is recorded until all of that succeeded."""
        kit = brand_kit_by_id(settings.brand_kits_dir, brief.brand)
        try:
            shape(brief, kit, settings, expander=TemplateExpander())
        except InputError as exc:
            raise FormRefused(forms.problem_errors(exc.problems, values)) from None
        refs: list[AssetRef] = []
        refused: list[str] = []
        for image in images:
            try:
                refs.append(accept_reference(image, kit, settings))
            except UploadRejected as exc:
                refused.append(str(exc))
        if refused:
            raise FormRefused({"references": refused})
        if refs:  # the references are part of the brief, and of its content-derived id
            brief = Brief.model_validate(
                brief.model_dump(mode="json") | {"id": None, "references": refs}
            )
        try:
            return brief, submit(brief)
        except Exception as exc:  # the Prefect API is down or the deployment is missing
            log.warning("could not start produce-video for %s: %s", brief.brief_id, _why(exc))
            message = f"could not start the run: {_why(exc)}. Nothing was saved; try again."
            raise FormRefused({forms.ROOT: [message]}, 503) from None

    @app.get("/briefs/{brief_id}", include_in_schema=False)
    def brief_page(request: Request, brief_id: str, ws: WebUser, session: Db) -> Response:
        row = visible_row(session, ws.user, brief_id)
        with bound():
            run = view(session, row.flow_run_id)
        status = status_of(run.facts)
        return page(
            "brief.html",
            request,
            ws=ws,
            row=row,
            brief=row.brief(),
            status=status,
            run=run,
            media_url=media_url,
            run_url=f"{ui_base}/runs/flow-run/{row.flow_run_id}" if ui_base else "",
        )

    @app.get("/briefs/{brief_id}/status", include_in_schema=False)
    def brief_status(brief_id: str, ws: WebUser, session: Db) -> dict[str, Any]:
        row = visible_row(session, ws.user, brief_id)
        with bound():
            facts, _, pubs = run_facts(session, row.flow_run_id)
        return status_of(facts).as_json() | {"publications": len(pubs)}

    @app.get("/briefs/{brief_id}/media/{pub_id}/{kind}", include_in_schema=False)
    def media(brief_id: str, pub_id: int, kind: str, ws: WebUser, session: Db) -> Response:
        row = visible_row(session, ws.user, brief_id)
        return _media(session, row, pub_id, kind)

    def _media(session: Session, row: acc.BriefRow, pub_id: int, kind: str) -> Response:
        from reelfactory.db import PublicationRow
        from reelfactory.publish import LocalTarget, target_for

        pub = session.get(PublicationRow, pub_id)
        if pub is None or pub.brief_id != row.brief_id or kind not in ("video", "captions"):
            raise HTTPException(404, "no such published file for this brief")
        key = pub.key if kind == "video" else pub.captions_key
        target = target_for(settings)
        if isinstance(target, LocalTarget):
            path = target.path(key)
            if not path.is_file():
                raise HTTPException(404, "the published file is gone")
            media_type = "video/mp4" if kind == "video" else "text/vtt"
            return FileResponse(path, media_type=media_type)
        return RedirectResponse(target.link(key), status_code=307)

    # ------------------------------------------------------------------ API

    def problem(code: int, detail: str, errors: dict[str, list[str]] | None = None) -> JSONResponse:
        body = Problem(
            detail=detail,
            errors=[FieldError(field=f, message=m) for f, ms in (errors or {}).items() for m in ms],
        )
        return JSONResponse(body.model_dump(), status_code=code)

    def api_brief(user: acc.User, payload: dict[str, Any]) -> Brief | JSONResponse:
        sent = payload.get("submitted_by")
        if sent not in (None, user.email):
            return problem(422, "invalid brief", {"submitted_by": [f"must be you ({user.email})"]})
        try:
            brief = Brief.model_validate({**payload, "submitted_by": user.email})
        except ValidationError as exc:
            errors: dict[str, list[str]] = {}
            for err in exc.errors():
                loc = ".".join(str(p) for p in err["loc"]) or forms.ROOT
                errors.setdefault(loc, []).append(err["msg"].removeprefix("Value error, "))
            return problem(422, "invalid brief", errors)
        if not user.may_submit(brief.brand):
            return problem(403, f"you may not submit briefs for brand {brief.brand!r}")
        return brief

    @app.post(
        "/api/v1/briefs",
        status_code=201,
        response_model=BriefCreated,
        responses={422: {"model": Problem}, 403: {"model": Problem}, 503: {"model": Problem}},
        tags=["briefs"],
    )
    def api_submit(payload: dict[str, Any], user: ApiUser, session: Db) -> Any:
        """Submit a brief (the ``Brief`` schema; ``submitted_by`` is the token's user) and
        start its run without waiting. The same brief twice gives the same run."""
        brief = api_brief(user, payload)
        if isinstance(brief, JSONResponse):
            return brief
        try:
            shape(
                brief,
                brand_kit_by_id(settings.brand_kits_dir, brief.brand),
                settings,
                expander=TemplateExpander(),
            )
        except InputError as exc:
            return problem(422, "the brief does not fit its format", _by_field(exc.problems))
        if brief.references:
            return problem(
                422, "invalid brief", {"references": ["upload reference images through the form"]}
            )
        try:
            run_id = submit(brief)
        except Exception as exc:
            return problem(503, f"could not start the run: {_why(exc)}; nothing was saved")
        row = acc.save_brief(session, brief, run_id)
        return BriefCreated(
            brief_id=row.brief_id, flow_run_id=row.flow_run_id, url=f"/briefs/{row.brief_id}"
        )

    @app.post(
        "/api/v1/briefs/check",
        response_model=CheckOut,
        responses={422: {"model": Problem}},
        tags=["briefs"],
    )
    def api_check(payload: dict[str, Any], user: ApiUser) -> Any:
        """Moderate and expand a brief without submitting it."""
        brief = api_brief(user, payload)
        if isinstance(brief, JSONResponse):
            return brief
        try:
            result = plan(brief, settings)
        except ModerationBlocked as exc:
            report = exc.report
            return CheckOut(
                verdict="block",
                findings=[f.describe() for f in report.findings] if report else [str(exc)],
                shots=[],
            )
        except InputError as exc:
            return problem(422, "the brief does not fit its format", _by_field(exc.problems))
        check = _check_view(result.shot_list, result.report)
        return CheckOut(verdict=check["verdict"], findings=check["findings"], shots=check["rows"])

    @app.get("/api/v1/briefs", response_model=list[BriefOut], tags=["briefs"])
    def api_list(
        user: ApiUser,
        session: Db,
        brand: str = "",
        state: str = "",
        since: str = "",
        until: str = "",
    ) -> Any:
        """Your brands' briefs, newest first; filter by brand, state (phase) and date."""
        visible = brands_for(user, submit_only=False)
        try:
            rows = _listed(session, visible, brand, since, until)
        except ValueError as exc:
            return problem(422, str(exc))
        with bound():
            statuses = _statuses(rows)
        out = [_brief_out(r, statuses[r.brief_id], []) for r in rows]
        return [b for b in out if not state or b.phase == state]

    @app.get(
        "/api/v1/briefs/{brief_id}",
        response_model=BriefOut,
        responses={404: {"model": Problem}},
        tags=["briefs"],
    )
    def api_brief_get(brief_id: str, user: ApiUser, session: Db) -> Any:
        row = acc.brief_row(session, brief_id)
        if row is None or not user.may_see(row.brand):
            return problem(404, f"no brief {brief_id!r} that you can see")
        with bound():
            facts, _, pubs = run_facts(session, row.flow_run_id)
        return _brief_out(row, status_of(facts), pubs)

    @app.post(
        "/api/v1/campaigns",
        status_code=201,
        response_model=CampaignStarted,
        responses={422: {"model": Problem}, 403: {"model": Problem}, 503: {"model": Problem}},
        tags=["campaigns"],
    )
    def api_campaign(payload: dict[str, Any], user: ApiUser) -> Any:
        """Validate a campaign spec (as ``reel campaign validate`` does), check its budget,
        and start a campaign-batch run."""
        from reelfactory.campaign import (
            budget_refusal,
            campaign_problems,
            estimate_for,
            expand_campaign,
            parse_campaign,
        )

        base = payload.get("base", {})
        if isinstance(base, dict) and "submitted_by" not in base:  # as for a brief: the token's
            payload = {**payload, "base": {**base, "submitted_by": user.email}}
        try:
            campaign = parse_campaign(payload, source="campaign")
            expanded, problems = expand_campaign(campaign)
            problems += campaign_problems(campaign, expanded, settings)
            if problems:
                raise InputError("campaign", problems)
        except InputError as exc:
            return problem(422, "invalid campaign", _by_field(exc.problems))
        if not user.may_submit(campaign.brand):
            return problem(403, f"you may not start campaigns for brand {campaign.brand!r}")
        # Separation of duties rests on submitted_by: nobody starts videos in another's name.
        others = sorted({v.brief.submitted_by for v in expanded} - {user.email})
        if others:
            return problem(
                422,
                "invalid campaign",
                {"base.submitted_by": [f"must be you ({user.email}), not {', '.join(others)}"]},
            )
        guess = estimate_for([v.brief for v in expanded], campaign.budget, settings)
        if guess is not None and (refusal := budget_refusal(guess)):
            return problem(422, f"over budget: {refusal}")
        try:
            with bound():
                run_id = orch.submit_campaign(campaign, deployment=campaign_deployment)
        except Exception as exc:  # the Prefect API is down or the deployment is missing
            return problem(503, f"could not start the campaign run: {_why(exc)}")
        return CampaignStarted(
            campaign=campaign.id,
            videos=sum(len(v.aspect_ratios) for v in expanded),
            estimated_cost=guess.cost if guess else None,
            currency=guess.currency if guess else settings.price_currency,
            flow_run_id=run_id,
        )

    @app.get("/api/v1/me", tags=["account"])
    def me(user: ApiUser) -> dict[str, Any]:
        return {
            "email": user.email,
            "grants": [{"role": r.value, "brand": b} for r, b in sorted(user.grants)],
        }

    def _brief_out(row: acc.BriefRow, status: Status, pubs: list[Any]) -> BriefOut:
        return BriefOut(
            brief_id=row.brief_id,
            brand=row.brand,
            campaign=row.campaign,
            title=row.title,
            submitted_by=row.submitted_by,
            submitted_at=_aware(row.submitted_at),
            flow_run_id=row.flow_run_id,
            phase=status.phase,
            detail=status.detail,
            final=status.final,
            publications=[
                PublicationOut(
                    aspect_ratio=p.aspect_ratio,
                    key=p.key,
                    sha256=p.sha256,
                    duration_s=p.duration_s,
                    width=p.width,
                    height=p.height,
                    video_url=media_url(row.brief_id, p.id, "video"),
                    captions_url=media_url(row.brief_id, p.id, "captions"),
                )
                for p in pubs
            ],
        )

    return app


# --------------------------------------------------------------------------- helpers


def _check_view(shot_list: ShotList, report: ModerationReport) -> dict[str, Any]:
    return {
        "verdict": report.verdict.value,
        "findings": [f.describe() for f in report.findings],
        "rows": shot_list_rows(shot_list),
    }


def _by_field(problems: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in problems:
        where, sep, text = line.partition(": ")
        out.setdefault(where if sep else forms.ROOT, []).append(text if sep else line)
    return out


def _pydantic_errors(exc: ValidationError) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or forms.ROOT
        out.setdefault(loc, []).append(err["msg"].removeprefix("Value error, "))
    return out


def _listed(
    session: Session, visible: list[str], brand: str, since: str, until: str
) -> list[acc.BriefRow]:
    brands = [b for b in visible if not brand or b == brand]
    return acc.brief_rows(
        session, brands=brands, since=_date(since, "since"), until=_date(until, "until", end=True)
    )


def _date(text: str, name: str, *, end: bool = False) -> datetime | None:
    if not text:
        return None
    try:
        day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise ValueError(f"{name}: not a date like 2026-11-29 (got {text[:40]!r})") from None
    return day + timedelta(days=1) if end else day


def _statuses(rows: list[acc.BriefRow]) -> dict[str, Status]:
    """Every listed brief's phase from one Prefect query (no per-brief task counts)."""
    from uuid import UUID

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.client.schemas.objects import FlowRun

    from reelfactory.web.status import RunFacts

    ids = [UUID(r.flow_run_id) for r in rows if r.flow_run_id]
    runs: dict[str, FlowRun] = {}
    if ids:
        with get_client(sync_client=True) as client:
            for run in client.read_flow_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=ids)), limit=len(ids)
            ):
                runs[str(run.id)] = run
    out = {}
    for row in rows:
        found = runs.get(row.flow_run_id)
        state = found.state if found else None
        facts = RunFacts(
            state_type=state.type.value if state else None,
            state_name=(state.name or "") if state else "Unknown",
            message=(state.message or "") if state else "",
            pause_key=state.state_details.pause_key if state else None,
            published=1
            if state and state.type.value == "COMPLETED" and state.name == "Completed"
            else 0,
        )
        out[row.brief_id] = status_of(facts)
    return out


def _why(exc: BaseException) -> str:
    """An exception as a reason: Prefect's ObjectNotFound, for one, prints as 'None'."""
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text and text != "None" else type(exc).__name__


def _aware(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _multi(form: FormData) -> dict[str, str | list[str]]:
    out: dict[str, str | list[str]] = {}
    for key in form:
        items = [v for v in form.getlist(key) if isinstance(v, str)]
        out[key] = items if key == "aspect_ratios" else (items[0] if items else "")
    return out


def _local_path(path: str) -> str:
    """Only same-site paths as redirect targets: no open redirects through ?next=."""
    parsed = urlparse(path)
    if parsed.scheme or parsed.netloc or not path.startswith("/") or path.startswith("//"):
        return "/briefs"
    return path


def _origin(url: str) -> str:
    p = urlparse(url)
    return f"{p.scheme}://{p.netloc}"


def _secure(request: Request, settings: Settings) -> bool:
    return settings.web_secure_cookies == "always" or request.url.scheme == "https"


def _lifetime(settings: Settings) -> timedelta:
    return timedelta(hours=settings.web_session_hours)


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
