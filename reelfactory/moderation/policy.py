"""The policy engine: layer scores in, one verdict per item out. Pure: no I/O, no models.

Layers report ``Signal``s (a category, a score in [0, 1], where). The engine turns them into
findings with the thresholds of the brand's ``Policy``:

- thresholds per category come from ``DEFAULT_THRESHOLDS``; a brand kit may only lower them
  (``ModerationRules`` refuses looser ones when the kit is validated);
- when minors are involved anywhere in the subject (a brief, a video), the sexual, violence
  and self-harm thresholds are multiplied by ``MINORS_FACTOR``;
- realistic people in frames follow the brand's ``PeoplePolicy`` (allow, review or block);
- a layer that failed or timed out gives ``review``, never ``allow`` (fail closed).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from reelfactory.models import (
    DEFAULT_THRESHOLDS,
    LAYER_FAILURE,
    MINORS_FACTOR,
    MINORS_TIGHTENED,
    BrandKit,
    Category,
    ModerationFinding,
    ModerationReport,
    PeoplePolicy,
    Threshold,
    Verdict,
)


@dataclass(frozen=True)
class Signal:
    """One layer's score for one category at one place."""

    layer: str
    category: Category
    score: float
    field: str
    evidence: str = ""
    span: tuple[int, int] | None = None
    time_s: float | None = None
    excerpt: str = ""
    # A presence signal says minors are involved; it tightens thresholds, it is not a finding.
    presence: bool = False


@dataclass(frozen=True)
class LayerFailure:
    """A layer that raised or timed out on ``field`` (or on everything when field is '*')."""

    layer: str
    error: str
    field: str = "*"


@dataclass(frozen=True)
class Policy:
    thresholds: dict[Category, Threshold] = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    people: PeoplePolicy = PeoplePolicy.REVIEW

    @classmethod
    def for_kit(cls, kit: BrandKit | None) -> Policy:
        if kit is None:
            return cls()
        return cls(
            thresholds={**DEFAULT_THRESHOLDS, **kit.moderation.thresholds},
            people=kit.moderation.people,
        )

    def threshold(self, category: Category, *, minors: bool) -> Threshold:
        base = self.thresholds[category]
        return base.scaled(MINORS_FACTOR) if minors and category in MINORS_TIGHTENED else base

    def judge(self, signal: Signal, *, minors: bool) -> ModerationFinding | None:
        """The finding ``signal`` makes under this policy, or None when it is allowed."""
        threshold = self.threshold(signal.category, minors=minors)
        verdict, crossed = threshold.verdict(signal.score)
        if signal.category is Category.PEOPLE:
            verdict = Verdict(self.people.value) if verdict is not Verdict.ALLOW else verdict
        if verdict is Verdict.ALLOW:
            return None
        tightened = minors and signal.category in MINORS_TIGHTENED
        return ModerationFinding(
            layer=signal.layer,
            category=signal.category.value,
            verdict=verdict,
            field=signal.field,
            score=round(min(max(signal.score, 0.0), 1.0), 4),
            threshold=round(crossed, 4),
            term=signal.evidence,
            span=signal.span,
            time_s=signal.time_s,
            excerpt=signal.excerpt,
            note="minors involved: threshold tightened" if tightened else "",
        )


def failure_finding(failure: LayerFailure) -> ModerationFinding:
    return ModerationFinding(
        layer=failure.layer,
        category=LAYER_FAILURE,
        verdict=Verdict.REVIEW,
        field=failure.field,
        score=1.0,
        term=failure.error,
    )


def minors_involved(signals: Iterable[Signal], policy: Policy) -> bool:
    """Minors are involved when a layer says they are present, or scores the minors
    category at or above its review threshold."""
    review = policy.thresholds[Category.MINORS].review
    return any(s.category is Category.MINORS and (s.presence or s.score >= review) for s in signals)


def decide(
    subject: str,
    signals: Sequence[Signal],
    failures: Sequence[LayerFailure],
    policy: Policy,
    layers: Sequence[str],
) -> ModerationReport:
    """The report for one subject (a brief, a shot list, a video): its findings, strongest first."""
    minors = minors_involved(signals, policy)
    found = [policy.judge(s, minors=minors) for s in signals if not s.presence]
    findings = [f for f in found if f is not None] + [failure_finding(x) for x in failures]
    rank = {Verdict.BLOCK: 0, Verdict.REVIEW: 1, Verdict.ALLOW: 2}
    findings.sort(key=lambda f: (rank[f.verdict], -f.score, f.field))
    return ModerationReport(subject=subject, findings=findings, layers=list(layers))
