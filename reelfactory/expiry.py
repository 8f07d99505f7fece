"""Approval waits that expired while suspended: audited after the fact.

A run that waits by pausing (``approval.wait: pause``) notices its own timeout and writes
the expiry audit row and artifact itself. A suspended run has no process left: Prefect's
pause-expiration service fails it ("The flow was paused and never resumed.") and nothing of
ours runs. :func:`sweep` finds such runs and writes what the run would have written, once:

- by hand: ``reel sweep-expired``;
- in production: the ``approval-sweep`` deployment (infra/prefect.yaml), every 10 minutes.

Deciding is pure (:func:`step_of`, :func:`expiry_message`, :func:`to_audit`); reading runs,
writing rows and artifacts are the edges.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from uuid import UUID

from reelfactory import db
from reelfactory.models import ApprovalDecision, Brief

if TYPE_CHECKING:
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.client.schemas.objects import FlowRun

    from reelfactory.settings import Settings

FLOW_NAME = "produce-video"
# What Prefect's pause-expiration service sets on a run whose pause or suspension expired.
EXPIRED_BY_PREFECT = "The flow was paused and never resumed."
EXPIRED_REASON = "expired: "


def expiry_message(step: str, timeout_s: int) -> str:
    """The one sentence an expired wait is audited with (in-process and swept alike)."""
    return f"no {step} decision within {timeout_s} s; nothing was published"


def step_of(pause_key: str) -> str:
    """``approval-2`` -> ``approval``; ``review-input-1`` -> ``review:input`` (the pause keys
    ``Asking.until_accepted`` numbers per step)."""
    base = pause_key.rsplit("-", 1)[0]
    return base.replace("-", ":", 1)


@dataclass(frozen=True)
class ExpiredWait:
    flow_run_id: str
    brief_id: str
    step: str
    timeout_s: int
    expired_at: datetime


def to_audit(wait: ExpiredWait) -> ApprovalDecision:
    return ApprovalDecision(
        brief_id=wait.brief_id,
        flow_run_id=wait.flow_run_id,
        step=wait.step,
        approver="",
        decision=None,
        accepted=False,
        reason=EXPIRED_REASON + expiry_message(wait.step, wait.timeout_s),
        decided_at=wait.expired_at,
    )


def _expired_wait(client: SyncPrefectClient, run: FlowRun) -> ExpiredWait | None:
    """The last wait of a run Prefect failed for not resuming, or None (not such a run)."""
    from prefect.client.schemas.objects import StateType

    if run.state is None or run.state.message != EXPIRED_BY_PREFECT:
        return None
    paused = [
        s
        for s in client.read_flow_run_states(run.id)
        if s.type is StateType.PAUSED and s.state_details.pause_key
    ]
    if not paused:
        return None
    last = max(paused, key=lambda s: s.timestamp)
    until = last.state_details.pause_timeout
    timeout_s = round((until - last.timestamp).total_seconds()) if until else 0
    brief = Brief.model_validate(run.parameters["brief"])
    return ExpiredWait(
        flow_run_id=str(run.id),
        brief_id=brief.brief_id,
        step=step_of(last.state_details.pause_key or ""),
        timeout_s=timeout_s,
        expired_at=run.state.timestamp,
    )


def find_expired(
    client: SyncPrefectClient, *, grace_s: float, limit: int = 200
) -> list[ExpiredWait]:
    """produce-video runs failed by Prefect for an expired wait, at least ``grace_s`` ago
    (a pausing run's own process writes its row in that time)."""
    from prefect.client.schemas.filters import (
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort

    runs = client.read_flow_runs(
        flow_filter=FlowFilter(name=FlowFilterName(any_=[FLOW_NAME])),
        flow_run_filter=FlowRunFilter(
            state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.FAILED]))
        ),
        sort=FlowRunSort.EXPECTED_START_TIME_DESC,
        limit=limit,
    )
    cutoff = datetime.now(UTC) - timedelta(seconds=grace_s)
    found = [w for w in (_expired_wait(client, r) for r in runs) if w is not None]
    return [w for w in found if w.expired_at <= cutoff]


def _artifact(client: SyncPrefectClient, wait: ExpiredWait, message: str) -> None:
    from prefect.client.schemas.actions import ArtifactCreate

    client.create_artifact(
        ArtifactCreate(
            key=f"expired-{wait.brief_id}",
            type="markdown",
            data=f"# Expired\n\n{message[0].upper()}{message[1:]}.",
            description=f"{wait.step} expired",
            flow_run_id=UUID(wait.flow_run_id),
        )
    )


def sweep(settings: Settings, *, grace_s: float = 120.0) -> list[ExpiredWait]:
    """Audit every expired suspended wait not audited yet; return the ones written now."""
    from prefect.client.orchestration import get_client

    written = []
    with get_client(sync_client=True) as client:
        for wait in find_expired(client, grace_s=grace_s):
            with db.session_for(settings.db_url) as session:
                rows = db.decisions_for_run(session=session, flow_run_id=wait.flow_run_id)
                if any(r.reason.startswith(EXPIRED_REASON) for r in rows):
                    continue  # audited already (by the run itself, or an earlier sweep)
                db.record_decision(session=session, decision=to_audit(wait))
            _artifact(client, wait, expiry_message(wait.step, wait.timeout_s))
            written.append(wait)
    return written
