"""Record sign-off decisions in the audit table; tell the brand when a run starts waiting."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.context import TaskRunContext
from prefect.settings import PREFECT_UI_URL

from reelfactory import db
from reelfactory.approval import waiting_payload
from reelfactory.expiry import ExpiredWait, sweep
from reelfactory.intake import Plan
from reelfactory.models import ApprovalDecision, VideoRecord
from reelfactory.settings import Settings

WEBHOOK_TIMEOUT_S = 5.0


def _per_pause(context: TaskRunContext, parameters: dict[str, Any]) -> str:
    """Once per flow run and pause: a run resumed from suspension replays its decisions
    without writing (or posting) them twice."""
    return f"{context.task.name}-{context.task_run.flow_run_id}-{parameters['pause_key']}"


@task(
    name="record-decision",
    retries=3,
    retry_delay_seconds=[1, 3, 10],
    cache_key_fn=_per_pause,
    persist_result=True,
)
def record_decision(decision: ApprovalDecision, db_url: str, pause_key: str) -> None:
    """Write one audit row per approval attempt (``pause_key``), refused ones included."""
    with db.session_for(db_url) as session:
        db.record_decision(session=session, decision=decision)


@task(name="record-video", retries=3, retry_delay_seconds=[1, 3, 10], cache_policy=NO_CACHE)
def record_video(video: VideoRecord, db_url: str) -> None:
    """One row per finished run: how it ended and what it cost (cost and ROI reports)."""
    with db.session_for(db_url) as session:
        db.record_video(session=session, video=video)


@task(name="notify-waiting", cache_key_fn=_per_pause, persist_result=True)  # once per wait
def notify_waiting(
    plan: Plan, step: str, flow_run_id: str, settings: Settings, pause_key: str
) -> bool:
    """POST the brand's webhook that a run waits for ``step``. Never fails the run: a
    webhook that is down or slow is logged (by host only: its URL may hold a token)."""
    url = plan.kit.approval.webhook_url
    if not url:
        return False
    ui = PREFECT_UI_URL.value()
    payload = waiting_payload(
        brief=plan.brief,
        kit=plan.kit,
        step=step,
        flow_run_id=flow_run_id,
        run_url=f"{ui.rstrip('/')}/runs/flow-run/{flow_run_id}" if ui else None,
        timeout_s=plan.kit.approval.timeout_s or settings.approval_timeout_s,
    )
    host = urlsplit(url).hostname or "?"
    try:
        response = httpx.post(url, json=payload, timeout=WEBHOOK_TIMEOUT_S)
        response.raise_for_status()
    except Exception as exc:  # a notification must never fail the run (nor log the URL)
        get_run_logger().warning(
            "could not notify %s that the run waits for %s: %s", host, step, type(exc).__name__
        )
        return False
    return True


@task(name="record-expiry", cache_policy=NO_CACHE)
def expired(plan: Plan, step: str, message: str, flow_run_id: str, settings: Settings) -> None:
    """Say that a wait expired: an audit row and a markdown artifact on the run."""
    with db.session_for(settings.db_url) as session:
        db.record_decision(
            session=session,
            decision=ApprovalDecision(
                brief_id=plan.brief.brief_id,
                flow_run_id=flow_run_id,
                step=step,
                approver="",
                decision=None,
                accepted=False,
                reason=f"expired: {message}",
            ),
        )
    create_markdown_artifact(
        key=f"expired-{plan.brief.brief_id}",
        markdown=f"# Expired\n\n{message[0].upper()}{message[1:]}.",
        description=f"{step} expired",
    )


@task(name="sweep-expired", retries=2, retry_delay_seconds=[5, 30], cache_policy=NO_CACHE)
def sweep_expired(settings: Settings, grace_s: float) -> list[ExpiredWait]:
    """Audit the approval waits that expired while suspended (``reelfactory.expiry``)."""
    return sweep(settings, grace_s=grace_s)
