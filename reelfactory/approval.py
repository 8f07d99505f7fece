"""Approval rules and the approver's view. Pure: the flow does the waiting."""

from __future__ import annotations

from collections.abc import Sequence

from reelfactory.models import (
    ApprovalDecision,
    BrandKit,
    Brief,
    Cut,
    Decision,
    ModerationReport,
    ShotList,
)


def evaluate(
    *,
    brief: Brief,
    kit: BrandKit,
    flow_run_id: str,
    approver: str,
    decision: str | None,
    notes: str,
    approved_by: Sequence[str] = (),
) -> ApprovalDecision:
    """Judge one resume of the approval form.

    A resume counts as a decision only if it names a decision and comes from an approver
    listed on the brand kit who did not submit the brief. Anything else is recorded as
    refused and the run keeps waiting. The form's initial data (empty approver, no
    decision) can therefore never approve.
    """
    who = approver.strip().lower()
    reason = ""
    if not who:
        reason = "approver: empty (a resume without input never counts as a decision)"
    elif who not in kit.approvers:
        reason = f"approver: {who!r} is not on the {kit.id!r} brand kit's approvers list"
    elif who == brief.submitted_by:
        reason = f"approver: {who!r} submitted this brief and may not approve it"
    elif decision not in {d.value for d in Decision}:
        reason = f"decision: must be 'approve' or 'reject' (got {decision!r})"
    elif who in approved_by:
        left = kit.approval.required_approvals - len(approved_by)
        reason = (
            f"approver: {who!r} has already approved; {left} more approval(s) needed "
            "from other listed approvers"
        )
    return ApprovalDecision(
        brief_id=brief.brief_id,
        flow_run_id=flow_run_id,
        approver=who,
        decision=Decision(decision) if not reason and decision else None,
        notes=notes,
        accepted=not reason,
        reason=reason,
    )


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def describe_for_approver(
    *,
    brief: Brief,
    kit: BrandKit,
    shot_list: ShotList,
    report: ModerationReport,
    cuts: list[Cut],
    refusal: str = "",
    approved_by: Sequence[str] = (),
) -> str:
    """The markdown shown beside the approval form in the Prefect UI."""
    lines = [f"# Approve: {brief.title}", ""]
    if refusal:
        lines += [f"> **Previous attempt refused.** {refusal}", ""]
    needed = kit.approval.required_approvals
    if needed > 1 or approved_by:
        by = f" (by {', '.join(approved_by)})" if approved_by else ""
        lines += [f"**Approvals:** {len(approved_by)} of {needed} distinct approvers{by}", ""]
    lines += [
        f"**Brand:** {kit.name} · **Format:** {shot_list.format} · "
        f"**Duration:** {shot_list.duration_s:g} s · **Language:** {brief.language}",
        f"**Submitted by:** {brief.submitted_by} · **Approvers:** {', '.join(kit.approvers)}",
        "",
        f"**Message:** {brief.message}",
        "",
        f"**Audience:** {brief.audience}",
        "",
        f"**Call to action:** {brief.call_to_action}",
        "",
        "## Draft cuts",
    ]
    for cut in cuts:
        lines.append(
            f"- {cut.aspect_ratio.value}: [video]({cut.preview or cut.video.uri}) · "
            f"[captions]({cut.captions_preview or cut.captions.uri}) · "
            f"{cut.video.width}×{cut.video.height}, "
            f"{cut.video.duration_s:.2f} s, sha256 `{cut.video.sha256[:12]}`"
        )
    lines += [
        "",
        "## Shot list",
        "",
        "| # | role | s | caption | prompt |",
        "|---|---|---|---|---|",
    ]
    for s in shot_list.shots:
        lines.append(
            f"| {s.index + 1} | {s.role} | {s.duration_s:.2f} "
            f"| {_cell(s.caption)} | {_cell(s.prompt)} |"
        )
    lines += ["", f"## Moderation: {report.verdict.value}"]
    lines += [f"- {f.describe()}" for f in report.findings] or ["- nothing flagged"]
    lines += [
        "",
        "Fill in **approver** (your email), **decision** (approve or reject) and optional "
        "**notes**, then resume. Nothing is published unless an approver on the list approves.",
    ]
    return "\n".join(lines)


def waiting_payload(
    *, brief: Brief, kit: BrandKit, step: str, flow_run_id: str, run_url: str | None, timeout_s: int
) -> dict[str, object]:
    """The JSON body posted to a brand's webhook when a run starts waiting. Pure."""
    return {
        "event": "reelfactory.run.waiting",
        "step": step,
        "brand": kit.id,
        "brief_id": brief.brief_id,
        "title": brief.title,
        "submitted_by": brief.submitted_by,
        "flow_run_id": flow_run_id,
        "flow_run_url": run_url,
        "required_approvals": kit.approval.required_approvals if step == "approval" else 1,
        "timeout_s": timeout_s,
    }
