"""The HTML pages behind a session: the brief list, the brief form (check or submit, with
reference images), a brief's page, its status JSON (polled by ``app.js``) and its media."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from pydantic import ValidationError
from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.datastructures import UploadFile as StarletteUpload
from starlette.formparsers import MultiPartException

from reelfactory import accounts as acc
from reelfactory.brand import brand_kit_by_id
from reelfactory.db import session_for
from reelfactory.errors import InputError, ModerationBlocked
from reelfactory.expand import TemplateExpander
from reelfactory.formats import list_formats, load_format
from reelfactory.intake import plan, shape
from reelfactory.models import MAX_REFERENCES, AssetRef, Brief
from reelfactory.settings import Settings
from reelfactory.web import forms
from reelfactory.web.auth_routes import WebUser, require_csrf
from reelfactory.web.common import check_view, listed_rows, media_url, statuses_of, why
from reelfactory.web.context import JSON_LIMIT, Ctx, Db, WebContext
from reelfactory.web.runs import run_facts, view
from reelfactory.web.security import FieldTooLarge, read_form
from reelfactory.web.status import PHASES, status_of
from reelfactory.web.uploads import CheckedImage, UploadRejected, accept_reference, check_image

log = logging.getLogger(__name__)

router = APIRouter()


class FormRefused(Exception):
    """The brief form goes back to the user with these errors by field."""

    def __init__(self, errors: dict[str, list[str]], status: int = 422) -> None:
        super().__init__(errors)
        self.errors = errors
        self.status = status


# --------------------------------------------------------------------------- brief list


@router.get("/briefs", include_in_schema=False)
def list_page(
    request: Request,
    ws: WebUser,
    session: Db,
    ctx: Ctx,
    brand: str = "",
    state: str = "",
    since: str = "",
    until: str = "",
) -> Response:
    visible = ctx.brands_for(ws.user, submit_only=False)
    try:
        rows = listed_rows(session, visible, brand, since, until)
    except ValueError as exc:
        return ctx.page(
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
    with ctx.bound():
        statuses = statuses_of(rows)
    listed = [(r, statuses[r.brief_id]) for r in rows]
    if state:
        listed = [(r, s) for r, s in listed if s.phase == state]
    return ctx.page(
        "list.html",
        request,
        ws=ws,
        rows=listed,
        brands=visible,
        error="",
        filters={"brand": brand, "state": state, "since": since, "until": until},
        phases=PHASES,
    )


# --------------------------------------------------------------------------- brief form


@router.get("/briefs/new", include_in_schema=False)
def new_brief(request: Request, ws: WebUser, ctx: Ctx) -> Response:
    values = forms.form_values({})
    brands = ctx.brands_for(ws.user, submit_only=True)
    if not brands:
        raise HTTPException(403, "you may not submit briefs for any brand")
    values.update(brand=brands[0], format="social-teaser-15", duration_s="15", language="en")
    values["aspect_ratios"] = ["16:9"]
    return form_page(ctx, request, ws, values)


@router.post("/briefs", include_in_schema=False)
async def post_brief(request: Request, ws: WebUser, ctx: Ctx) -> Response:
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
    files = [f for f in form.getlist("references") if isinstance(f, StarletteUpload) and f.filename]
    uploads = [(f.filename, await f.read(ctx.upload_limit + 1)) for f in files]
    await form.close()  # the spooled upload files; the text fields stay readable
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(handle_brief_form, ctx, request, ws, form, uploads)


def handle_brief_form(
    ctx: WebContext,
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
            ctx, request, ws, values, errors=forms.validation_errors(exc, values), code=422
        )
    try:
        images = checked_images(uploads, ctx.upload_limit)
        if action == "check":
            return form_page(ctx, request, ws, values, check=check_brief(ctx, brief, values))
        final, run_id = submit_brief(ctx, brief, images, values)
    except FormRefused as exc:
        return form_page(ctx, request, ws, values, errors=exc.errors, code=exc.status)
    with session_for(ctx.settings.db_url) as session:
        row = acc.save_brief(session, final, run_id)
    return RedirectResponse(f"/briefs/{quote(row.brief_id)}", status_code=303)


def form_page(
    ctx: WebContext,
    request: Request,
    ws: acc.WebSession,
    values: forms.FormValues,
    *,
    errors: dict[str, list[str]] | None = None,
    check: dict[str, Any] | None = None,
    code: int = 200,
) -> HTMLResponse:
    return ctx.page(
        "brief_form.html",
        request,
        code,
        ws=ws,
        v=values,
        errors=errors or {},
        check=check,
        brands=ctx.brands_for(ws.user, submit_only=True),
        formats=_formats(ctx.settings),
        slots=range(1, forms.TRANSLATION_SLOTS + 1),
        upload_mib=ctx.settings.web_upload_max_mib,
        max_references=MAX_REFERENCES,
    )


def checked_images(uploads: list[tuple[str | None, bytes]], limit: int) -> list[CheckedImage]:
    """Every upload read as an image (content, size, dimensions), nothing stored yet."""
    try:
        return [check_image(data, name, limit) for name, data in uploads]
    except UploadRejected as exc:
        raise FormRefused({"references": [str(exc)]}, 413 if exc.too_large else 422) from None


def check_brief(ctx: WebContext, brief: Brief, values: forms.FormValues) -> dict[str, Any]:
    """'Check': text moderation and expansion, as the run will do them. Saves nothing."""
    try:
        result = plan(brief, ctx.settings)
    except ModerationBlocked as exc:
        raise FormRefused({forms.ROOT: [str(exc)]}) from None
    except InputError as exc:
        raise FormRefused(forms.problem_errors(exc.problems, values)) from None
    return check_view(result.shot_list, result.report)


def submit_brief(
    ctx: WebContext, brief: Brief, images: list[CheckedImage], values: forms.FormValues
) -> tuple[Brief, str]:
    """Check the brief's shape against its format, moderate and store the reference
    images, start the run. Nothing is recorded until all of that succeeded."""
    settings = ctx.settings
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
        return brief, ctx.submit(brief)
    except Exception as exc:  # the Prefect API is down or the deployment is missing
        log.warning("could not start produce-video for %s: %s", brief.brief_id, why(exc))
        message = f"could not start the run: {why(exc)}. Nothing was saved; try again."
        raise FormRefused({forms.ROOT: [message]}, 503) from None


# --------------------------------------------------------------------------- one brief


@router.get("/briefs/{brief_id}", include_in_schema=False)
def brief_page(request: Request, brief_id: str, ws: WebUser, session: Db, ctx: Ctx) -> Response:
    row = visible_row(session, ws.user, brief_id)
    with ctx.bound():
        run = view(session, row.flow_run_id)
    status = status_of(run.facts)
    return ctx.page(
        "brief.html",
        request,
        ws=ws,
        row=row,
        brief=row.brief(),
        status=status,
        run=run,
        media_url=media_url,
        run_url=f"{ctx.ui_base}/runs/flow-run/{row.flow_run_id}" if ctx.ui_base else "",
    )


@router.get("/briefs/{brief_id}/status", include_in_schema=False)
def brief_status(brief_id: str, ws: WebUser, session: Db, ctx: Ctx) -> dict[str, Any]:
    row = visible_row(session, ws.user, brief_id)
    with ctx.bound():
        facts, _, pubs = run_facts(session, row.flow_run_id)
    return status_of(facts).as_json() | {"publications": len(pubs)}


@router.get("/briefs/{brief_id}/media/{pub_id}/{kind}", include_in_schema=False)
def media(brief_id: str, pub_id: int, kind: str, ws: WebUser, session: Db, ctx: Ctx) -> Response:
    row = visible_row(session, ws.user, brief_id)
    return _media(ctx.settings, session, row, pub_id, kind)


def visible_row(session: Session, user: acc.User, brief_id: str) -> acc.BriefRow:
    row = acc.brief_row(session, brief_id)
    if row is None or not user.may_see(row.brand):
        raise HTTPException(404, f"no brief {brief_id!r} that you can see")
    return row


def _media(
    settings: Settings, session: Session, row: acc.BriefRow, pub_id: int, kind: str
) -> Response:
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


# --------------------------------------------------------------------------- helpers


def _formats(settings: Settings) -> list[dict[str, Any]]:
    out = []
    for fid in list_formats(settings.templates_dir):
        fmt = load_format(settings.templates_dir, fid)
        out.append({"id": fid, "min": fmt.timing.duration_s.min, "max": fmt.timing.duration_s.max})
    return out


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _multi(form: FormData) -> dict[str, str | list[str]]:
    out: dict[str, str | list[str]] = {}
    for key in form:
        items = [v for v in form.getlist(key) if isinstance(v, str)]
        out[key] = items if key == "aspect_ratios" else (items[0] if items else "")
    return out
