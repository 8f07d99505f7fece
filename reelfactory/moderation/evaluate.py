"""``reel moderation-eval``: precision and recall of the text stack on a labelled set.

A line counts as *flagged* when the verdict is not ``allow`` (review or block: either way it
does not ship without a human). Per category, as in the Sora system card's tables:

- recall: of the lines labelled with the category, how many were flagged;
- precision: of the lines flagged *for* the category (a finding names it), how many are
  labelled disallowed at all;
- for benign lines: how many were flagged (false flags) and how many blocked (false blocks).

Overall figures add accuracy (the exact expected verdict) and the confusion counts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from reelfactory.models import ModerationReport, Verdict
from reelfactory.moderation.dataset import BENIGN, Labelled

# The targets: recall on disallowed lines and false blocks on benign ones.
TARGET_RECALL = 0.979
TARGET_FALSE_BLOCKS = 0.05


@dataclass(frozen=True)
class Outcome:
    row: Labelled
    report: ModerationReport

    @property
    def verdict(self) -> Verdict:
        return self.report.verdict

    @property
    def flagged(self) -> bool:
        return self.verdict is not Verdict.ALLOW

    @property
    def categories(self) -> set[str]:
        return {f.category for f in self.report.findings if f.verdict is not Verdict.ALLOW}


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def evaluate(
    rows: Sequence[Labelled],
    moderate: Callable[[Labelled], ModerationReport],
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    outcomes = []
    for n, row in enumerate(rows, start=1):
        outcomes.append(Outcome(row, moderate(row)))
        if progress:
            progress(n, len(rows))
    return summarise(outcomes)


def summarise(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """The figures for a set of outcomes. Pure."""
    disallowed = [o for o in outcomes if o.row.disallowed]
    benign = [o for o in outcomes if not o.row.disallowed]
    tp = sum(o.flagged for o in disallowed)
    fp = sum(o.flagged for o in benign)
    overall = {
        "n": len(outcomes),
        "disallowed": len(disallowed),
        "benign": len(benign),
        "tp": tp,
        "fp": fp,
        "fn": len(disallowed) - tp,
        "tn": len(benign) - fp,
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, len(disallowed)),
        "accuracy": _ratio(sum(o.verdict is o.row.expected for o in outcomes), len(outcomes)),
        "false_flag_rate": _ratio(fp, len(benign)),
        "false_block_rate": _ratio(sum(o.verdict is Verdict.BLOCK for o in benign), len(benign)),
    }
    categories: dict[str, dict[str, Any]] = {}
    for name in sorted({str(o.row.category) for o in outcomes}):
        labelled = [o for o in outcomes if str(o.row.category) == name]
        if name == BENIGN:
            flagged = sum(o.flagged for o in labelled)
            categories[name] = {
                "n": len(labelled),
                "false_flags": flagged,
                "false_blocks": sum(o.verdict is Verdict.BLOCK for o in labelled),
                "false_flag_rate": _ratio(flagged, len(labelled)),
            }
            continue
        caught = sum(o.flagged for o in labelled)
        named = [o for o in outcomes if name in o.categories]
        categories[name] = {
            "n": len(labelled),
            "flagged": caught,
            "blocked": sum(o.verdict is Verdict.BLOCK for o in labelled),
            "recall": _ratio(caught, len(labelled)),
            "precision": _ratio(sum(o.row.disallowed for o in named), len(named)),
            "exact": _ratio(sum(o.verdict is o.row.expected for o in labelled), len(labelled)),
        }
    misses = [
        {"text": o.row.text[:200], "category": str(o.row.category), "expected": o.row.expected}
        for o in disallowed
        if not o.flagged
    ]
    false_flags = [
        {
            "text": o.row.text[:200],
            "verdict": o.verdict.value,
            "why": [f.describe()[:200] for f in o.report.findings[:2]],
        }
        for o in benign
        if o.flagged
    ]
    return {
        "overall": overall,
        "categories": categories,
        "targets": {
            "recall": TARGET_RECALL,
            "false_block_rate": TARGET_FALSE_BLOCKS,
            "recall_met": (overall["recall"] or 0) >= TARGET_RECALL,
            "false_block_rate_met": (overall["false_block_rate"] or 0) <= TARGET_FALSE_BLOCKS,
        },
        "misses": misses,
        "false_flags": false_flags,
    }


def table(summary: dict[str, Any]) -> str:
    """The figures as a markdown table, one row per category plus the overall row."""

    def pct(v: float | None) -> str:
        return "-" if v is None else f"{100 * v:.2f}%"

    lines = [
        "| category | n | recall | precision | exact verdict | false flags (benign) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, c in summary["categories"].items():
        if name == BENIGN:
            lines.append(f"| benign | {c['n']} | - | - | - | {pct(c['false_flag_rate'])} |")
        else:
            lines.append(
                f"| {name} | {c['n']} | {pct(c['recall'])} | {pct(c['precision'])} "
                f"| {pct(c['exact'])} | - |"
            )
    o = summary["overall"]
    lines.append(
        f"| **overall** | {o['n']} | {pct(o['recall'])} | {pct(o['precision'])} "
        f"| {pct(o['accuracy'])} | {pct(o['false_flag_rate'])} |"
    )
    lines.append("")
    lines.append(
        f"False blocks on benign: {pct(o['false_block_rate'])} "
        f"(target <= {pct(TARGET_FALSE_BLOCKS)}); recall on disallowed {pct(o['recall'])} "
        f"(target >= {pct(TARGET_RECALL)})."
    )
    return "\n".join(lines)
