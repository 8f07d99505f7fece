"""produce-video: one brief in, one approved, captioned MP4 per aspect ratio published.

The flow only orchestrates. Every decision is a pure function in ``reelfactory``; every side
effect is a task in ``tasks``.
"""

from __future__ import annotations

from prefect import flow, get_run_logger, runtime
from prefect.client.schemas.objects import State
from prefect.flow_runs import pause_flow_run
from prefect.input import RunInput
from prefect.states import Completed
from pydantic import Field

from reelfactory.approval import describe_for_approver, evaluate
from reelfactory.intake import Plan
from reelfactory.models import ApprovalDecision, Brief, Cut, Decision, RunOutcome
from reelfactory.render import requests_for
from reelfactory.settings import Settings
from tasks.approve import record_decision
from tasks.assemble import assemble_cut
from tasks.plan import plan_brief, prepare_database
from tasks.publish import publish_approved, stage_cut
from tasks.render import render_shot

FLOW_NAME = "produce-video"
DEPLOYMENT_NAME = "produce-video"


class ApprovalForm(RunInput):
    """The form the approver fills in the Prefect UI.

    Its initial data (no approver, no decision) is refused by ``evaluate``: Prefect lets a
    run be resumed with no input, and that must never count as approval.
    """

    approver: str = Field(default="", description="Your email, as listed on the brand kit.")
    decision: Decision | None = Field(default=None, description="approve or reject")
    notes: str = Field(default="", description="Why; shown in the audit trail.")


def wait_for_approval(
    plan: Plan, cuts: list[Cut], flow_run_id: str, settings: Settings
) -> ApprovalDecision:
    """Pause until an allowed approver decides; refused attempts are audited and re-asked."""
    logger = get_run_logger()
    refusal = ""
    attempt = 0
    while True:
        attempt += 1
        description = describe_for_approver(
            brief=plan.brief,
            kit=plan.kit,
            shot_list=plan.shot_list,
            report=plan.report,
            cuts=cuts,
            refusal=refusal,
        )
        form = pause_flow_run(
            wait_for_input=ApprovalForm.with_initial_data(description=description),
            timeout=settings.approval_timeout_s,
            poll_interval=settings.approval_poll_s,
            key=f"approval-{attempt}",
        )
        decision = evaluate(
            brief=plan.brief,
            kit=plan.kit,
            flow_run_id=flow_run_id,
            approver=form.approver,
            decision=form.decision.value if form.decision else None,
            notes=form.notes,
        )
        record_decision(decision, settings.db_url)
        if decision.accepted:
            return decision
        refusal = decision.reason
        logger.warning("approval attempt %d refused, still waiting: %s", attempt, refusal)


@flow(name=FLOW_NAME, log_prints=False, persist_result=True)
def produce_video(brief: Brief) -> RunOutcome | State:
    """Expand, moderate, render, assemble, wait for approval, publish."""
    settings = Settings()
    logger = get_run_logger()
    flow_run_id = str(runtime.flow_run.id)

    prepare_database(settings.db_url)
    plan = plan_brief(brief, settings)
    shots = plan.shot_list.shots
    logger.info(
        "brief %s: %d shots, %.2f s, moderation %s",
        brief.brief_id,
        len(shots),
        plan.shot_list.duration_s,
        plan.report.verdict.value,
    )

    cuts: list[Cut] = []
    for ratio in brief.aspect_ratios:
        requests = requests_for(plan.shot_list, plan.kit, ratio, settings.render_short_edge)
        rendered = [f.result() for f in [render_shot.submit(r, settings) for r in requests]]
        cut = assemble_cut(plan.shot_list, rendered, plan.kit, ratio, flow_run_id, settings)
        cuts.append(stage_cut(cut, brief, flow_run_id, settings))

    decision = wait_for_approval(plan, cuts, flow_run_id, settings)
    if decision.decision is Decision.REJECT:
        logger.info("rejected by %s: %s", decision.approver, decision.notes or "(no notes)")
        return Completed(
            name="Rejected",
            message=f"Rejected by {decision.approver}: {decision.notes or '(no notes)'}",
            data=RunOutcome(status="rejected", brief_id=brief.brief_id),
        )

    publications = publish_approved(cuts, brief, decision, settings)
    return RunOutcome(status="published", brief_id=brief.brief_id, publications=publications)
