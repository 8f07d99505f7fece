"""Helpers the HTML pages and the JSON API share: listing briefs with their phase, the
'check' view of a plan, media URLs, and exceptions as reasons."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from sqlmodel import Session

from reelfactory import accounts as acc
from reelfactory.intake import shot_list_rows
from reelfactory.models import ModerationReport, ShotList
from reelfactory.web.status import Status, status_of


def media_url(brief_id: str, pub_id: int | None, kind: str) -> str:
    return f"/briefs/{quote(brief_id)}/media/{pub_id}/{kind}"


def check_view(shot_list: ShotList, report: ModerationReport) -> dict[str, Any]:
    return {
        "verdict": report.verdict.value,
        "findings": [f.describe() for f in report.findings],
        "rows": shot_list_rows(shot_list),
    }


def listed_rows(
    session: Session, visible: list[str], brand: str, since: str, until: str
) -> list[acc.BriefRow]:
    """The visible briefs, filtered; ``ValueError`` names a filter that is not a date."""
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


def statuses_of(rows: list[acc.BriefRow]) -> dict[str, Status]:
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


def why(exc: BaseException) -> str:
    """An exception as a reason: Prefect's ObjectNotFound, for one, prints as 'None'."""
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text and text != "None" else type(exc).__name__
