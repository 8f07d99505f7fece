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

CHANGES_SYNTAX = (
    "'N: new direction' per shot, separated by ';' (e.g. '2: slower push-in; 3: show the bag')"
)


def parse_changes(text: str, shot_count: int) -> dict[int, str]:
    """Per-shot change requests from the form's one-line field. Pure.

    Raises:
        ValueError: naming the entry that does not parse, or a shot that does not exist.
    """
    out: dict[int, str] = {}
    for entry in (e.strip() for e in text.split(";")):
        if not entry:
            continue
        number, sep, direction = entry.partition(":")
        if not sep or not number.strip().isdigit() or not direction.strip():
            raise ValueError(f"changes: expected {CHANGES_SYNTAX} (got {entry!r})")
        shot = int(number)
        if not 1 <= shot <= shot_count:
            raise ValueError(f"changes: there is no shot {shot} (shots are 1-{shot_count})")
        if shot in out:
            raise ValueError(f"changes: shot {shot} is named twice")
        out[shot] = direction.strip()
    if not out:
        raise ValueError(f"changes: a change request needs {CHANGES_SYNTAX}")
    return out


def signer_refusal(who: str, allowed: Sequence[str], brief: Brief, kit: BrandKit, role: str) -> str:
    """Why ``who`` may not sign off as ``role`` ('approver', 'reviewer'), or ''. Pure.

    Empty (Prefect's resume without input), not listed, or the brief's own submitter
    (separation of duties) are refused.
    """
    verb = {"approver": "approve", "reviewer": "review"}[role]
    if not who:
        return f"{role}: empty (a resume without input never counts as a decision)"
    if who not in allowed:
        return f"{role}: {who!r} is not on the {kit.id!r} brand kit's {role}s list"
    if who == brief.submitted_by:
        return f"{role}: {who!r} submitted this brief and may not {verb} it"
    return ""


def evaluate(
    *,
    brief: Brief,
    kit: BrandKit,
    flow_run_id: str,
    approver: str,
    decision: str | None,
    notes: str,
    approved_by: Sequence[str] = (),
    changes: str = "",
    shot_count: int = 0,
    version: int = 1,
) -> ApprovalDecision:
    """Judge one resume of the approval form.

    A resume counts as a decision only if it names a decision and comes from an approver
    listed on the brand kit who did not submit the brief. Anything else is recorded as
    refused and the run keeps waiting. The form's initial data (empty approver, no
    decision) can therefore never approve.
    """
    who = approver.strip().lower()
    reason = signer_refusal(who, kit.approvers, brief, kit, "approver")
    if not reason and decision not in {d.value for d in Decision}:
        reason = f"decision: must be 'approve', 'reject' or 'changes' (got {decision!r})"
    if not reason and who in approved_by:
        left = kit.approval.required_approvals - len(approved_by)
        reason = (
            f"approver: {who!r} has already approved; {left} more approval(s) needed "
            "from other listed approvers"
        )
    requested: dict[int, str] = {}
    if not reason and decision == Decision.REQUEST_CHANGES:
        try:
            requested = parse_changes(changes, shot_count)
        except ValueError as exc:
            reason = str(exc)
    return ApprovalDecision(
        brief_id=brief.brief_id,
        flow_run_id=flow_run_id,
        version=version,
        changes=requested,
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
    version: int = 1,
    history: Sequence[str] = (),
    cost: str = "",
) -> str:
    """The markdown shown beside the approval form in the Prefect UI.

    Args:
        cost: what the renders of every version so far cost, in one line.
    """
    lines = [f"# Approve: {brief.title} (version {version})", ""]
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
    if cost:
        lines += ["", "## Cost so far", "", cost]
    lines += ["", f"## Moderation: {report.verdict.value}"]
    lines += [f"- {f.describe()}" for f in report.findings] or ["- nothing flagged"]
    if history:
        lines += ["", "## Earlier versions", "", *history]
    lines += [
        "",
        "Fill in **approver** (your email), **decision** (`approve`, `reject` or `changes`) and "
        f"optional **notes**, then resume. For `changes`, fill in **changes**: {CHANGES_SYNTAX}; "
        "only those shots are re-rendered. Nothing is published unless an approver on the "
        "list approves.",
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
