"""The revision loop's decisions: apply an approver's per-shot change requests. Pure.

Only the requested shots change (their prompt carries the new direction), so the shot cache
re-renders exactly those and reuses every other clip.
"""

from __future__ import annotations

from collections.abc import Mapping

from reelfactory.models import Shot, ShotList


def revise(shot_list: ShotList, changes: Mapping[int, str]) -> ShotList:
    """``shot_list`` with the direction of each requested shot (1-based) added to its prompt."""
    shots = []
    for shot in shot_list.shots:
        direction = changes.get(shot.index + 1)
        if direction:
            shot = shot.model_copy(update={"prompt": f"{shot.prompt} Revision: {direction}."})
        shots.append(shot)
    return shot_list.model_copy(update={"shots": shots})


def changed_only(shot_list: ShotList, changes: Mapping[int, str]) -> ShotList:
    """The requested shots alone: what must be moderated again."""
    return shot_list.model_copy(
        update={"shots": [s for s in shot_list.shots if s.index + 1 in changes]}
    )


def describe_revision(version: int, changes: Mapping[int, str], shots: list[Shot]) -> str:
    """One markdown line for the approver's 'Earlier versions' list."""
    names = {s.index + 1: s.name for s in shots}
    asked = "; ".join(f"shot {n} ({names.get(n, '?')}): {d}" for n, d in sorted(changes.items()))
    return f"- **Version {version}** — changes requested: {asked}"
