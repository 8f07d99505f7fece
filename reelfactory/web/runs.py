"""What the web app reads about runs: the Prefect API for live state and artifacts, our
database for approvals and publications. I/O only; ``status.status_of`` decides."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterId,
)
from sqlmodel import Session

from reelfactory.db import ApprovalAuditRow, PublicationRow, decisions_for_run, publications_for_run
from reelfactory.orchestration import run_artifacts
from reelfactory.web.status import RunFacts

RENDER_TASK = "render-shot"
FINISHED = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


@dataclass(frozen=True)
class RunView:
    facts: RunFacts
    decisions: list[ApprovalAuditRow]
    publications: list[PublicationRow]
    reports: list[tuple[str, str]]  # (artifact key, markdown), oldest first


def run_facts(
    session: Session, flow_run_id: str
) -> tuple[RunFacts, list[ApprovalAuditRow], list[PublicationRow]]:
    """State, render progress, decisions and publications of one produce-video run."""
    decisions = decisions_for_run(session=session, flow_run_id=flow_run_id)
    publications = publications_for_run(session=session, flow_run_id=flow_run_id)
    if not flow_run_id:
        return RunFacts(state_type=None, state_name="Not started"), decisions, publications
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(UUID(flow_run_id))
        tasks = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[UUID(flow_run_id)]))
        )
    renders = [t for t in tasks if t.name.startswith(RENDER_TASK)]
    done = [t for t in renders if t.state and t.state.type.value in FINISHED]
    state = run.state
    facts = RunFacts(
        state_type=state.type.value if state else None,
        state_name=(state.name or "") if state else "Unknown",
        message=(state.message or "") if state else "",
        pause_key=state.state_details.pause_key if state else None,
        renders_done=len(done),
        renders_total=len(renders),
        approved=any(d.accepted and d.step == "approval" for d in decisions),
        published=len(publications),
    )
    return facts, decisions, publications


def moderation_reports(flow_run_id: str) -> list[tuple[str, str]]:
    """The run's moderation report artifacts (markdown), oldest first."""
    if not flow_run_id:
        return []
    artifacts = run_artifacts(flow_run_id)
    return sorted((k, v) for k, v in artifacts.items() if k.startswith("moderation-"))


def view(session: Session, flow_run_id: str) -> RunView:
    facts, decisions, publications = run_facts(session, flow_run_id)
    return RunView(facts, decisions, publications, moderation_reports(flow_run_id))
