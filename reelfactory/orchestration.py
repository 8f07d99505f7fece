"""Client side of the flows: submit by deployment name, watch, resume. No flow code here.

The CLI, the web app and the tests use these; they go through the same Prefect API as the UI.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.client.schemas.objects import FlowRun, StateType, TaskRun
from prefect.deployments import run_deployment
from prefect.flow_runs import resume_flow_run

from reelfactory.models import Brief

if TYPE_CHECKING:
    from reelfactory.campaign import Campaign

DEPLOYMENT = "produce-video/produce-video"
FINAL = {StateType.COMPLETED, StateType.FAILED, StateType.CANCELLED, StateType.CRASHED}


def submit(
    brief: Brief, *, deployment: str = DEPLOYMENT, idempotency_key: str | None = None
) -> str:
    """Start a produce-video run for ``brief``; return its flow run id without waiting.

    With ``idempotency_key``, submitting again returns the run the first call started.
    """
    run = run_deployment(  # type: ignore[call-arg]  # async_dispatch's _sync
        name=deployment,
        parameters={"brief": brief.model_dump(mode="json")},
        timeout=0,
        tags=[f"brand:{brief.brand}", f"brief:{brief.brief_id}", f"campaign:{brief.campaign}"],
        idempotency_key=idempotency_key,
        _sync=True,  # these helpers are sync: never hand back an un-awaited coroutine
    )
    assert isinstance(run, FlowRun)  # the sync call of an async-dispatching function
    return str(run.id)


def read_run(flow_run_id: str) -> FlowRun:
    with get_client(sync_client=True) as client:
        return client.read_flow_run(UUID(flow_run_id))


def run_artifacts(flow_run_id: str) -> dict[str, str]:
    """The flow run's keyed artifacts: key -> data as text (markdown, a link, table JSON)."""
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[UUID(flow_run_id)])
            )
        )
    return {a.key: str(a.data) for a in found if a.key}


def campaign_summary(flow_run_id: str, campaign_id: str) -> list[dict[str, Any]]:
    """A campaign-batch run's summary table (``campaign-<id>``): one row per variant."""
    table = run_artifacts(flow_run_id).get(f"campaign-{campaign_id}")
    rows: list[dict[str, Any]] = json.loads(table) if table else []
    return rows


def finished_tasks(flow_run_id: str) -> list[TaskRun]:
    """The flow run's task runs that have reached a final state, oldest first."""
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[UUID(flow_run_id)]))
        )
    done = [r for r in runs if r.state and r.state.type in FINAL and r.end_time]
    return sorted(done, key=lambda r: str(r.end_time))


@dataclass(frozen=True)
class Watched:
    run: FlowRun

    @property
    def state_type(self) -> StateType | None:
        return self.run.state.type if self.run.state else None

    @property
    def state_name(self) -> str:
        return (self.run.state.name or "Unknown") if self.run.state else "Unknown"

    @property
    def message(self) -> str:
        return (self.run.state.message or "") if self.run.state else ""


def wait_for(
    flow_run_id: str,
    until: Callable[[Watched], bool],
    *,
    timeout_s: float,
    poll_s: float = 0.5,
    on_change: Callable[[Watched], None] | None = None,
    on_tasks: Callable[[list[TaskRun]], None] | None = None,
) -> Watched:
    """Poll a flow run until ``until`` holds, a final state is reached, or time runs out.

    ``on_change`` hears of every new flow-run state; ``on_tasks`` gets the finished task
    runs at every poll (for progress output on long runs).
    """
    deadline = time.monotonic() + timeout_s
    last = ""
    while True:
        watched = Watched(read_run(flow_run_id))
        if on_change and watched.state_name != last:
            on_change(watched)
            last = watched.state_name
        if on_tasks:
            on_tasks(finished_tasks(flow_run_id))
        if until(watched) or watched.state_type in FINAL:
            return watched
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"flow run {flow_run_id} still {watched.state_name} after {timeout_s:.0f} s"
            )
        time.sleep(poll_s)


def is_paused(w: Watched) -> bool:
    return w.state_type is StateType.PAUSED


def is_final(w: Watched) -> bool:
    return w.state_type in FINAL


def waiting_runs(limit: int = 200) -> list[FlowRun]:
    """Flow runs paused for a decision (approval or moderation review), oldest first."""
    from prefect.client.schemas.filters import FlowRunFilterState, FlowRunFilterStateType
    from prefect.client.schemas.sorting import FlowRunSort

    with get_client(sync_client=True) as client:
        return client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED]))
            ),
            sort=FlowRunSort.EXPECTED_START_TIME_ASC,
            limit=limit,
        )


def is_review(w: Watched) -> bool:
    """Paused for a moderation reviewer (not for brand approval)."""
    return is_paused(w) and (pause_key(w) or "").startswith("review-")


def resume_review(flow_run_id: str, *, reviewer: str, decision: str, notes: str = "") -> None:
    """Answer the moderation review form: decision 'allow' or 'block'."""
    resume_flow_run(  # type: ignore[call-arg]  # async_dispatch's _sync
        UUID(flow_run_id),
        run_input={"reviewer": reviewer, "decision": decision, "notes": notes},
        _sync=True,  # callers with a running event loop (notebooks, Playwright) included
    )


def resume(
    flow_run_id: str, *, approver: str, decision: str, notes: str = "", changes: str = ""
) -> None:
    """Answer the approval form, exactly as the UI's resume button does."""
    resume_flow_run(  # type: ignore[call-arg]  # async_dispatch's _sync
        UUID(flow_run_id),
        run_input={"approver": approver, "decision": decision, "notes": notes, "changes": changes},
        _sync=True,
    )


def pause_key(w: Watched) -> str | None:
    return w.run.state.state_details.pause_key if w.run.state else None


def paused_again(w: Watched, previous_key: str | None) -> bool:
    """True once the run is paused on a different pause than ``previous_key`` (re-asked)."""
    return is_paused(w) and pause_key(w) != previous_key


CAMPAIGN_DEPLOYMENT = "campaign-batch/campaign-batch"


def submit_campaign(campaign: Campaign, *, deployment: str = CAMPAIGN_DEPLOYMENT) -> str:
    """Start a campaign-batch run; return its flow run id without waiting."""
    run = run_deployment(  # type: ignore[call-arg]  # async_dispatch's _sync
        name=deployment,
        parameters={"campaign": campaign.model_dump(mode="json", by_alias=True)},
        timeout=0,
        tags=[f"brand:{campaign.brand}", f"campaign-run:{campaign.id}"],
        _sync=True,
    )
    assert isinstance(run, FlowRun)
    return str(run.id)


def approve_waiting(campaign_id: str, approver: str) -> list[str]:
    """Approve every variant run of ``campaign_id`` waiting for brand approval (not review)."""
    done = []
    for run in waiting_runs():
        key = run.state.state_details.pause_key if run.state else None
        if f"campaign:{campaign_id}" in run.tags and (key or "").startswith("approval-"):
            resume(str(run.id), approver=approver, decision="approve")
            done.append(str(run.id))
    return done


@dataclass(frozen=True)
class Scheduled:
    schedule_id: str
    created: bool
    cron: str
    timezone: str
    active: bool


def schedule_campaign(
    campaign: Campaign, cron: str, timezone: str, *, deployment: str = CAMPAIGN_DEPLOYMENT
) -> Scheduled:
    """Create, or update in place, the campaign's cron schedule on the campaign-batch
    deployment (one schedule per campaign, slug ``campaign-<id>``, carrying the campaign as
    its parameters). An existing schedule keeps its active/paused switch from the UI."""
    from prefect.client.schemas.actions import DeploymentScheduleCreate
    from prefect.client.schemas.schedules import CronSchedule

    slug = f"campaign-{campaign.id}"
    params = {"campaign": campaign.model_dump(mode="json", by_alias=True)}
    cron_schedule = CronSchedule(cron=cron, timezone=timezone)
    with get_client(sync_client=True) as client:
        target = client.read_deployment_by_name(deployment)
        existing = [s for s in client.read_deployment_schedules(target.id) if s.slug == slug]
        if existing:
            client.update_deployment_schedule(
                target.id, existing[0].id, schedule=cron_schedule, parameters=params
            )
            return Scheduled(str(existing[0].id), False, cron, timezone, existing[0].active)
        [made] = client.create_deployment_schedules(
            target.id,
            [
                DeploymentScheduleCreate(
                    schedule=cron_schedule, active=True, parameters=params, slug=slug
                )
            ],
        )
        return Scheduled(str(made.id), True, cron, timezone, made.active)
