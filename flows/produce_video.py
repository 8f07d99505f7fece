"""produce-video: one brief in, one approved, captioned MP4 per aspect ratio published.

Moderation gates the run twice: the brief and its prompts before rendering, the frames of
every rendered shot and cut before approval. 'block' ends the run (state "Blocked"),
'review' pauses it for a moderation reviewer exactly as approval does.

The flow only orchestrates. Every decision is a pure function in ``reelfactory``; every side
effect is a task in ``tasks``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

from prefect import flow, get_run_logger, runtime
from prefect.client.schemas.objects import State
from prefect.context import FlowRunContext
from prefect.exceptions import FlowPauseTimeout
from prefect.flow_runs import pause_flow_run, suspend_flow_run
from prefect.futures import PrefectFuture
from prefect.input import RunInput
from prefect.states import Completed, Failed
from pydantic import Field

from flows.render_shots import dispatch
from reelfactory import orchestration as orch
from reelfactory.approval import describe_for_approver, evaluate
from reelfactory.cost import Prices, describe_cost, prices_from, render_cost, task_seconds
from reelfactory.errors import ModerationBlocked
from reelfactory.expiry import expiry_message
from reelfactory.intake import Plan
from reelfactory.models import (
    ApprovalDecision,
    AspectRatio,
    Brief,
    CostRecord,
    Cut,
    Decision,
    ModerationReport,
    ReviewChoice,
    RunOutcome,
    ShotList,
    Verdict,
    VideoRecord,
)
from reelfactory.moderation.review import describe_for_reviewer, evaluate_review
from reelfactory.render import RenderedShot, RenderRequest, render_size, requests_for
from reelfactory.revision import changed_only, describe_revision, revise
from reelfactory.settings import Settings
from tasks.approve import expired, notify_waiting, record_decision, record_video
from tasks.assemble import assemble_cut
from tasks.moderate import moderate_frames, moderate_revision, publish_moderation_report
from tasks.plan import plan_brief, prepare_database
from tasks.publish import link_previews, publish_approved, stage_cut
from tasks.render import render_shot
from tasks.sign import sign_cuts

FLOW_NAME = "produce-video"
DEPLOYMENT_NAME = "produce-video"


class ApprovalForm(RunInput):
    """The form the approver fills in the Prefect UI.

    Its initial data (no approver, no decision) is refused by ``evaluate``: Prefect lets a
    run be resumed with no input, and that must never count as approval.
    """

    approver: str = Field(default="", description="Your email, as listed on the brand kit.")
    decision: Decision | None = Field(default=None, description="approve, reject or changes")
    notes: str = Field(default="", description="Why; shown in the audit trail.")
    changes: str = Field(
        default="",
        description="With 'changes': '2: slower push-in; 3: show the bag' (shot: direction).",
    )


class ReviewForm(RunInput):
    """The form a moderation reviewer fills in when moderation was unsure."""

    reviewer: str = Field(default="", description="Your email, as listed on the brand kit.")
    decision: ReviewChoice | None = Field(default=None, description="allow or block")
    notes: str = Field(default="", description="Why; shown in the audit trail.")


F = TypeVar("F", bound=RunInput)


class ApprovalExpired(Exception):
    """Nobody decided within the brand's approval timeout."""


@dataclass
class Asking:
    """What every pause of one run shares: numbering, timeout, and whom to notify."""

    plan: Plan
    flow_run_id: str
    settings: Settings
    attempts: Counter[str] = field(default_factory=Counter)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    # What the run has done so far, for its cost record.
    cost: CostRecord = field(default_factory=CostRecord)
    version: int = 1
    decided_at: datetime | None = None

    def record(self, result: RunOutcome | State) -> None:
        """Write the run's cost record: how it ended, its versions and what they cost."""
        outcome = result if isinstance(result, RunOutcome) else result.data
        if not isinstance(outcome, RunOutcome):
            return
        brief = self.plan.brief
        tasks = orch.finished_tasks(self.flow_run_id)
        cost = self.cost + task_seconds(
            (t.name, t.total_run_time.total_seconds()) for t in tasks if t.total_run_time
        )
        record_video(
            VideoRecord(
                flow_run_id=self.flow_run_id,
                brief_id=brief.brief_id,
                brand=brief.brand,
                campaign=brief.campaign,
                status=outcome.status,
                versions=self.version,
                submitted_at=self.started_at,
                decided_at=self.decided_at,
                finished_at=datetime.now(UTC),
                cost=cost,
                priced=self.prices.of(cost.gpu_s, cost.cpu_total_s),
                currency=self.prices.currency,
            ),
            self.settings.db_url,
        )

    @property
    def timeout_s(self) -> int:
        return self.plan.kit.approval.timeout_s or self.settings.approval_timeout_s

    @property
    def prices(self) -> Prices:
        return prices_from(self.settings)

    @property
    def wait(self) -> str:
        """'pause' (this process waits) or 'suspend' (it exits; any worker resumes the run)."""
        return self.plan.kit.approval.wait or self.settings.approval_wait

    def until_accepted(
        self,
        form: type[F],
        describe: Callable[[str], str],
        judge: Callable[[F], ApprovalDecision],
        step: str,
    ) -> ApprovalDecision:
        """Pause with ``form`` until ``judge`` accepts an answer. Every attempt is audited; a
        refused one is asked again (pause ``approval-2``, ...) with the reason on top.

        Raises:
            ApprovalExpired: no answer within the timeout.
        """
        logger = get_run_logger()
        refusal = ""
        prefix = step.replace(":", "-")
        # Pause keys are numbered across the run: after a suspension the flow runs again from
        # the top, every suspend_flow_run with a key already answered returns that answer
        # (Prefect refuses to suspend twice on one key), and the decisions replay as they
        # were. Tasks before this point return their cached results (same run, same
        # inputs); the two with side effects are keyed by the pause they belong to.
        notify_waiting(
            self.plan,
            step,
            self.flow_run_id,
            self.settings,
            f"{prefix}-{self.attempts[prefix] + 1}",
        )
        while True:
            self.attempts[prefix] += 1
            key = f"{prefix}-{self.attempts[prefix]}"
            wait_for = form.with_initial_data(description=describe(refusal))
            try:
                if self.wait == "suspend":
                    answer = suspend_flow_run(
                        wait_for_input=wait_for, timeout=self.timeout_s, key=key
                    )
                else:
                    answer = pause_flow_run(
                        wait_for_input=wait_for,
                        timeout=self.timeout_s,
                        poll_interval=self.settings.approval_poll_s,
                        key=key,
                    )
            except FlowPauseTimeout:
                message = expiry_message(step, self.timeout_s)
                expired(self.plan, step, message, self.flow_run_id, self.settings)
                raise ApprovalExpired(message) from None
            decision = judge(answer)
            record_decision(decision, self.settings.db_url, key)
            if decision.accepted:
                return decision
            refusal = decision.reason
            logger.warning("%s refused, still waiting: %s", step, refusal)


def wait_for_approval(
    ask: Asking,
    shot_list: ShotList,
    cuts: list[Cut],
    report: ModerationReport,
    version: int,
    history: list[str],
    cost: CostRecord,
) -> ApprovalDecision:
    """Pause until the brand's required number of distinct approvers approve, or one rejects
    or requests changes."""
    plan = ask.plan
    approved_by: list[str] = []
    while True:
        decision = ask.until_accepted(
            ApprovalForm,
            lambda refusal: describe_for_approver(
                brief=plan.brief,
                kit=plan.kit,
                shot_list=shot_list,
                report=report,
                cuts=cuts,
                refusal=refusal,
                approved_by=approved_by,
                version=version,
                history=history,
                cost=describe_cost(cost, ask.prices),
            ),
            lambda form: evaluate(
                brief=plan.brief,
                kit=plan.kit,
                flow_run_id=ask.flow_run_id,
                approver=form.approver,
                decision=form.decision.value if form.decision else None,
                notes=form.notes,
                approved_by=approved_by,
                changes=form.changes,
                shot_count=len(shot_list.shots),
                version=version,
            ),
            "approval",
        )
        if decision.decision is not Decision.APPROVE:
            return decision
        approved_by.append(decision.approver)
        if len(approved_by) >= plan.kit.approval.required_approvals:
            return decision.model_copy(update={"approved_by": approved_by})


def wait_for_review(ask: Asking, report: ModerationReport, step: str) -> ApprovalDecision:
    """Pause until an allowed reviewer clears (allow) or blocks a 'review' verdict."""
    plan = ask.plan
    return ask.until_accepted(
        ReviewForm,
        lambda refusal: describe_for_reviewer(
            brief=plan.brief, kit=plan.kit, report=report, step=step, refusal=refusal
        ),
        lambda form: evaluate_review(
            brief=plan.brief,
            kit=plan.kit,
            flow_run_id=ask.flow_run_id,
            step=step,
            reviewer=form.reviewer,
            decision=form.decision.value if form.decision else None,
            notes=form.notes,
        ),
        step,
    )


def blocked(brief: Brief, message: str) -> State:
    """The run's end when moderation (or a reviewer) blocks it."""
    get_run_logger().warning("blocked: %s", message)
    return Failed(
        name="Blocked",
        message=message,
        data=RunOutcome(status="blocked", brief_id=brief.brief_id),
    )


def cleared(ask: Asking, report: ModerationReport, step: str) -> str:
    """'' when ``report`` lets the run go on (after a human review if needed), else why not."""
    if report.verdict is Verdict.BLOCK:
        return f"{report.subject} blocked by moderation: " + "; ".join(
            f.describe() for f in report.findings if f.verdict is Verdict.BLOCK
        )
    if report.verdict is Verdict.REVIEW:
        decision = wait_for_review(ask, report, step)
        if decision.decision is ReviewChoice.BLOCK:
            return f"blocked in review by {decision.approver}: {decision.notes or '(no notes)'}"
    return ""


@flow(name=FLOW_NAME, log_prints=False, persist_result=True)
def produce_video(brief: Brief) -> RunOutcome | State:
    """Expand, moderate, render, check frames, assemble, wait for approval, publish."""
    # The turnaround clock: run start to final sign-off. A resumed (suspended) run starts
    # this function again; its flow run still has its first start time.
    context = FlowRunContext.get()
    first_start = context.flow_run.start_time if context and context.flow_run else None
    started_at = first_start or datetime.now(UTC)
    settings = Settings()
    logger = get_run_logger()
    flow_run_id = str(runtime.flow_run.id)

    prepare_database(settings.db_url)
    try:
        plan = plan_brief(brief, settings)
    except ModerationBlocked as exc:
        return blocked(brief, str(exc))
    shots = plan.shot_list.shots
    logger.info(
        "brief %s: %d shots, %.2f s, moderation %s",
        brief.brief_id,
        len(shots),
        plan.shot_list.duration_s,
        plan.report.verdict.value,
    )
    # An expired wait raises ApprovalExpired: Prefect fails a run whose pause timed out
    # ("The flow was paused and never resumed."), so the audit row and the artifact written
    # by `expired` are what say so. A suspended run has no process to write them: the
    # approval-sweep flow (reelfactory.expiry) writes them after the fact.
    ask = Asking(plan, flow_run_id, settings, started_at=started_at)
    result = produce(ask)
    ask.record(result)
    return result


def produce(ask: Asking) -> RunOutcome | State:
    """Everything after planning: gates, renders, approval (with revisions), publishing."""
    plan, settings, brief = ask.plan, ask.settings, ask.plan.brief
    logger = get_run_logger()
    if why := cleared(ask, plan.report, "review:input"):
        return blocked(brief, why)

    shot_list, version = plan.shot_list, 1
    history: list[str] = []  # one line per earlier version, for the approver
    cost = CostRecord()  # every version's renders so far
    while True:
        cuts, output, version_cost = render_and_check(ask, shot_list, version)
        cost = cost + version_cost
        ask.cost, ask.version = cost, version
        if why := cleared(ask, output, "review:output"):
            return blocked(brief, why)
        staged = [stage_cut(cut, brief, ask.flow_run_id, settings, version) for cut in cuts]
        link_previews(staged, brief.brief_id, version)
        report = plan.report.merged(output, subject=brief.brief_id)
        decision = wait_for_approval(ask, shot_list, staged, report, version, history, cost)
        ask.decided_at = decision.decided_at
        if decision.decision is Decision.REJECT:
            logger.info("rejected by %s: %s", decision.approver, decision.notes or "(no notes)")
            return Completed(
                name="Rejected",
                message=f"Rejected by {decision.approver}: {decision.notes or '(no notes)'}",
                data=RunOutcome(status="rejected", brief_id=brief.brief_id, cost=cost),
            )
        if decision.decision is not Decision.REQUEST_CHANGES:
            break
        # Only the requested shots change: re-moderate them; the shot cache re-renders them
        # alone and reuses every other clip.
        revised = revise(shot_list, decision.changes)
        recheck = moderate_revision(changed_only(revised, decision.changes), plan.kit, settings)
        if why := cleared(ask, recheck, "review:input"):
            return blocked(brief, why)
        history.append(describe_revision(version, decision.changes, shot_list.shots))
        logger.info(
            "version %d: %s asked to change shots %s",
            version,
            decision.approver,
            sorted(decision.changes),
        )
        shot_list, version = revised, version + 1

    signed = sign_cuts(staged, brief, decision, settings, version)
    publications = publish_approved(signed, brief, decision, settings)
    return RunOutcome(
        status="published", brief_id=brief.brief_id, publications=publications, cost=cost
    )


def render_all(
    batches: dict[AspectRatio, list[RenderRequest]], settings: Settings, key: str
) -> dict[AspectRatio, list[RenderedShot]]:
    """Every ratio's shots: on the render pool when one is configured, else in this process."""
    flat = [r for requests in batches.values() for r in requests]
    if settings.render_deployment:
        refs = dispatch(flat, settings, key)
    else:
        refs = [f.result() for f in [render_shot.submit(r, settings, key) for r in flat]]
    out: dict[AspectRatio, list[RenderedShot]] = {}
    at = 0
    for ratio, requests in batches.items():
        out[ratio], at = refs[at : at + len(requests)], at + len(requests)
    return out


def render_and_check(
    ask: Asking, shot_list: ShotList, version: int
) -> tuple[list[Cut], ModerationReport, CostRecord]:
    """Render (through the shot cache) and assemble every ratio; check every clip's frames.

    Returns the cuts, the output moderation report and what this version's renders cost.
    """
    plan, settings, brief = ask.plan, ask.settings, ask.plan.brief
    cuts: list[Cut] = []
    checks: list[PrefectFuture[ModerationReport]] = []
    batches = {
        ratio: requests_for(
            shot_list,
            plan.kit,
            ratio,
            settings.render_short_edge,
            size=render_size(
                settings.renderer, ratio, settings.render_short_edge, settings.model_registry
            ),
        )
        for ratio in brief.aspect_ratios
    }
    rendered_by_ratio = render_all(batches, settings, key=f"{ask.flow_run_id}-v{version}")
    cost = render_cost(s for shots in rendered_by_ratio.values() for s in shots)
    for ratio, shots in rendered_by_ratio.items():
        rendered = [s.ref for s in shots]
        checks += [
            moderate_frames.submit(ref, f"shot[{i}] {ratio.value}", plan.kit, settings)
            for i, ref in enumerate(rendered)
        ]
        cut = assemble_cut(shot_list, rendered, plan.kit, ratio, ask.flow_run_id, settings, version)
        checks.append(moderate_frames.submit(cut.video, f"cut {ratio.value}", plan.kit, settings))
        cuts.append(cut)
    output = ModerationReport(subject=f"renders of {brief.brief_id} v{version}")
    for check in checks:
        output = output.merged(check.result())
    key = f"moderation-{brief.brief_id}-output" + (f"-v{version}" if version > 1 else "")
    publish_moderation_report(output, key, f"Output moderation (version {version})")
    get_run_logger().info("version %d renders: %s", version, describe_cost(cost, ask.prices))
    return cuts, output, cost
