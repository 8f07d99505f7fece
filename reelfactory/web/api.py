"""``/api/v1``: the JSON API for tools, behind ``Authorization: Bearer <token>``
(``reel users token EMAIL``). Errors are a ``Problem``: ``detail`` and field ``errors``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError

from reelfactory import accounts as acc
from reelfactory import orchestration as orch
from reelfactory.brand import brand_kit_by_id
from reelfactory.errors import InputError, ModerationBlocked
from reelfactory.expand import TemplateExpander
from reelfactory.intake import plan, shape
from reelfactory.models import Brief
from reelfactory.web import forms
from reelfactory.web.common import check_view, listed_rows, media_url, statuses_of, why
from reelfactory.web.context import Ctx, Db
from reelfactory.web.runs import run_facts
from reelfactory.web.status import Status, status_of

router = APIRouter()


# --------------------------------------------------------------------------- schemas


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


# --------------------------------------------------------------------------- routes


@router.post(
    "/api/v1/briefs",
    status_code=201,
    response_model=BriefCreated,
    responses={422: {"model": Problem}, 403: {"model": Problem}, 503: {"model": Problem}},
    tags=["briefs"],
)
def api_submit(payload: dict[str, Any], user: ApiUser, session: Db, ctx: Ctx) -> Any:
    """Submit a brief (the ``Brief`` schema; ``submitted_by`` is the token's user) and
    start its run without waiting. The same brief twice gives the same run."""
    brief = api_brief(user, payload)
    if isinstance(brief, JSONResponse):
        return brief
    try:
        shape(
            brief,
            brand_kit_by_id(ctx.settings.brand_kits_dir, brief.brand),
            ctx.settings,
            expander=TemplateExpander(),
        )
    except InputError as exc:
        return problem(422, "the brief does not fit its format", _by_field(exc.problems))
    if brief.references:
        return problem(
            422, "invalid brief", {"references": ["upload reference images through the form"]}
        )
    try:
        run_id = ctx.submit(brief)
    except Exception as exc:
        return problem(503, f"could not start the run: {why(exc)}; nothing was saved")
    row = acc.save_brief(session, brief, run_id)
    return BriefCreated(
        brief_id=row.brief_id, flow_run_id=row.flow_run_id, url=f"/briefs/{row.brief_id}"
    )


@router.post(
    "/api/v1/briefs/check",
    response_model=CheckOut,
    responses={422: {"model": Problem}},
    tags=["briefs"],
)
def api_check(payload: dict[str, Any], user: ApiUser, ctx: Ctx) -> Any:
    """Moderate and expand a brief without submitting it."""
    brief = api_brief(user, payload)
    if isinstance(brief, JSONResponse):
        return brief
    try:
        result = plan(brief, ctx.settings)
    except ModerationBlocked as exc:
        report = exc.report
        return CheckOut(
            verdict="block",
            findings=[f.describe() for f in report.findings] if report else [str(exc)],
            shots=[],
        )
    except InputError as exc:
        return problem(422, "the brief does not fit its format", _by_field(exc.problems))
    check = check_view(result.shot_list, result.report)
    return CheckOut(verdict=check["verdict"], findings=check["findings"], shots=check["rows"])


@router.get("/api/v1/briefs", response_model=list[BriefOut], tags=["briefs"])
def api_list(
    user: ApiUser,
    session: Db,
    ctx: Ctx,
    brand: str = "",
    state: str = "",
    since: str = "",
    until: str = "",
) -> Any:
    """Your brands' briefs, newest first; filter by brand, state (phase) and date."""
    visible = ctx.brands_for(user, submit_only=False)
    try:
        rows = listed_rows(session, visible, brand, since, until)
    except ValueError as exc:
        return problem(422, str(exc))
    with ctx.bound():
        statuses = statuses_of(rows)
    out = [brief_out(r, statuses[r.brief_id], []) for r in rows]
    return [b for b in out if not state or b.phase == state]


@router.get(
    "/api/v1/briefs/{brief_id}",
    response_model=BriefOut,
    responses={404: {"model": Problem}},
    tags=["briefs"],
)
def api_brief_get(brief_id: str, user: ApiUser, session: Db, ctx: Ctx) -> Any:
    row = acc.brief_row(session, brief_id)
    if row is None or not user.may_see(row.brand):
        return problem(404, f"no brief {brief_id!r} that you can see")
    with ctx.bound():
        facts, _, pubs = run_facts(session, row.flow_run_id)
    return brief_out(row, status_of(facts), pubs)


@router.post(
    "/api/v1/campaigns",
    status_code=201,
    response_model=CampaignStarted,
    responses={422: {"model": Problem}, 403: {"model": Problem}, 503: {"model": Problem}},
    tags=["campaigns"],
)
def api_campaign(payload: dict[str, Any], user: ApiUser, ctx: Ctx) -> Any:
    """Validate a campaign spec (as ``reel campaign validate`` does), check its budget,
    and start a campaign-batch run."""
    from reelfactory.campaign import (
        budget_refusal,
        campaign_problems,
        estimate_for,
        expand_campaign,
        parse_campaign,
    )

    settings = ctx.settings
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
        with ctx.bound():
            run_id = orch.submit_campaign(campaign, deployment=ctx.campaign_deployment)
    except Exception as exc:  # the Prefect API is down or the deployment is missing
        return problem(503, f"could not start the campaign run: {why(exc)}")
    return CampaignStarted(
        campaign=campaign.id,
        videos=sum(len(v.aspect_ratios) for v in expanded),
        estimated_cost=guess.cost if guess else None,
        currency=guess.currency if guess else settings.price_currency,
        flow_run_id=run_id,
    )


@router.get("/api/v1/me", tags=["account"])
def me(user: ApiUser) -> dict[str, Any]:
    return {
        "email": user.email,
        "grants": [{"role": r.value, "brand": b} for r, b in sorted(user.grants)],
    }


# --------------------------------------------------------------------------- helpers


def problem(code: int, detail: str, errors: dict[str, list[str]] | None = None) -> JSONResponse:
    body = Problem(
        detail=detail,
        errors=[FieldError(field=f, message=m) for f, ms in (errors or {}).items() for m in ms],
    )
    return JSONResponse(body.model_dump(), status_code=code)


def api_brief(user: acc.User, payload: dict[str, Any]) -> Brief | JSONResponse:
    """The payload as the token user's brief, or the ``Problem`` that says why not."""
    sent = payload.get("submitted_by")
    if sent not in (None, user.email):
        return problem(422, "invalid brief", {"submitted_by": [f"must be you ({user.email})"]})
    try:
        brief = Brief.model_validate({**payload, "submitted_by": user.email})
    except ValidationError as exc:
        return problem(422, "invalid brief", _pydantic_errors(exc))
    if not user.may_submit(brief.brand):
        return problem(403, f"you may not submit briefs for brand {brief.brand!r}")
    return brief


def brief_out(row: acc.BriefRow, status: Status, pubs: list[Any]) -> BriefOut:
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


def _aware(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at
