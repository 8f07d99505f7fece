"""Human review of a 'review' verdict: who may decide, and what they are shown. Pure.

The flow pauses exactly as it does for brand approval; the reviewer answers allow or block
in the Prefect UI, beside the report rendered by ``describe_for_reviewer``.
"""

from __future__ import annotations

from reelfactory.approval import signer_refusal
from reelfactory.models import (
    ApprovalDecision,
    BrandKit,
    Brief,
    ModerationReport,
    ReviewChoice,
)


def reviewers_for(kit: BrandKit) -> list[str]:
    return list(kit.moderation.reviewers or kit.approvers)


def evaluate_review(
    *,
    brief: Brief,
    kit: BrandKit,
    flow_run_id: str,
    step: str,
    reviewer: str,
    decision: str | None,
    notes: str,
) -> ApprovalDecision:
    """Judge one resume of the review form; refused attempts are recorded and re-asked."""
    who = reviewer.strip().lower()
    reason = signer_refusal(who, reviewers_for(kit), brief, kit, "reviewer")
    if not reason and decision not in {c.value for c in ReviewChoice}:
        reason = f"decision: must be 'allow' or 'block' (got {decision!r})"
    return ApprovalDecision(
        brief_id=brief.brief_id,
        flow_run_id=flow_run_id,
        step=step,
        approver=who,
        decision=ReviewChoice(decision) if not reason and decision else None,
        notes=notes,
        accepted=not reason,
        reason=reason,
    )


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def report_markdown(report: ModerationReport, *, heading: str = "Moderation") -> str:
    """A report as markdown: verdict, layers, and a table of findings (strongest first)."""
    lines = [
        f"## {heading}: {report.verdict.value.upper()}",
        "",
        f"**Subject:** {report.subject} · **Layers:** {', '.join(report.layers) or 'none'}",
        "",
    ]
    if not report.findings:
        return "\n".join([*lines, "Nothing flagged."])
    lines += [
        "| verdict | where | category | score | threshold | layer | evidence |",
        "|---|---|---|---:|---:|---|---|",
    ]
    for f in report.findings:
        where = f.field
        if f.span is not None:
            where += f" [{f.span[0]}:{f.span[1]}]"
        if f.time_s is not None:
            where += f" @ {f.time_s:.2f} s"
        evidence = f.term + (f" — {f.note}" if f.note else "")
        if f.excerpt:
            evidence += f" — “{f.excerpt}”"
        threshold = "-" if f.threshold is None else f"{f.threshold:.2f}"
        lines.append(
            f"| {f.verdict.value} | {_cell(where)} | {f.category} | {f.score:.2f} "
            f"| {threshold} | {f.layer} | {_cell(evidence)} |"
        )
    return "\n".join(lines)


def describe_for_reviewer(
    *, brief: Brief, kit: BrandKit, report: ModerationReport, step: str, refusal: str = ""
) -> str:
    """The markdown shown beside the review form in the Prefect UI."""
    what = "the brief and its shot prompts" if step == "review:input" else "the rendered frames"
    lines = [f"# Moderation review: {brief.title}", ""]
    if refusal:
        lines += [f"> **Previous attempt refused.** {refusal}", ""]
    lines += [
        f"Moderation was unsure about {what} of **{brief.brief_id}** ({kit.name}). "
        "Nothing renders or publishes until a reviewer decides.",
        "",
        f"**Reviewers:** {', '.join(reviewers_for(kit))} · **Submitted by:** {brief.submitted_by}",
        "",
        report_markdown(report),
        "",
        "Fill in **reviewer** (your email), **decision** (`allow` to continue, `block` to stop "
        "the run) and **notes**, then resume.",
    ]
    return "\n".join(lines)
