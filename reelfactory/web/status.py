"""What a brief's page says about its run, decided from facts read elsewhere. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

Phase = Literal[
    "queued",
    "rendering",
    "in review",
    "waiting for approval",
    "approved",
    "published",
    "rejected",
    "blocked",
    "failed",
    "unknown",
]
FINAL_PHASES = {"published", "rejected", "blocked", "failed"}
# The phases a list can be filtered by, in the order a run goes through them.
PHASES: list[str] = [p for p in get_args(Phase) if p != "unknown"]


@dataclass(frozen=True)
class RunFacts:
    """What the Prefect API and our records say about one produce-video run."""

    state_type: str | None  # Prefect StateType value: SCHEDULED, RUNNING, PAUSED, ...
    state_name: str  # e.g. "Blocked", "Rejected", "Completed", "Suspended"
    message: str = ""
    pause_key: str | None = None
    renders_done: int = 0
    renders_total: int = 0
    approved: bool = False  # an accepted approval decision is recorded
    published: int = 0  # publication rows for the run


@dataclass(frozen=True)
class Status:
    phase: Phase
    detail: str

    @property
    def final(self) -> bool:
        return self.phase in FINAL_PHASES

    def as_json(self) -> dict[str, str | bool]:
        return {"phase": self.phase, "detail": self.detail, "final": self.final}


def status_of(f: RunFacts) -> Status:
    """The phase to show. Ordered from what ends a run to what is still to come."""
    kind = (f.state_type or "").upper()
    if kind == "COMPLETED":
        if f.state_name == "Rejected":
            return Status("rejected", f.message or "The approver rejected it.")
        if f.published:
            return Status("published", f"{f.published} cut(s) published.")
        return Status("failed", f.message or "Completed without publishing anything.")
    if kind in {"FAILED", "CRASHED", "CANCELLED"}:
        if f.state_name == "Blocked":
            return Status("blocked", f.message or "Moderation blocked it.")
        return Status("failed", f.message or f"The run ended {f.state_name}.")
    if kind == "PAUSED":
        if (f.pause_key or "").startswith("review-"):
            return Status("in review", "A moderation reviewer is looking at it.")
        return Status("waiting for approval", "Waiting for a brand approver in the Prefect UI.")
    if kind == "RUNNING":
        if f.approved:
            return Status("approved", "Approved; publishing.")
        if f.renders_total and f.renders_done < f.renders_total:
            return Status("rendering", f"Rendering: {f.renders_done}/{f.renders_total} shots done.")
        if f.renders_total:
            return Status("rendering", "Shots rendered; assembling the cuts.")
        return Status("rendering", "Planning and checking the shots.")
    if kind in {"SCHEDULED", "PENDING", ""}:
        return Status("queued", "Waiting for a worker to pick it up.")
    return Status("unknown", f"{f.state_name}")
