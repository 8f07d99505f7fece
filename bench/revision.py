"""Benchmark: what a revision costs when an approver changes one shot of six.

Baseline: the first version of a 6-shot training explainer (60 s) on the animatic renderer,
from an empty shot cache: render every shot, assemble the cut.
Candidate, in the same run: the revision the approval loop makes after '3: ...' is
requested: the same steps on the revised shot list, through the shot cache.
Goal (approval issue): revision time <= 0.30 x first-version time. Also reports how many
shots each pass rendered.

Run: ``python bench/revision.py [--short-edge 720]``. The last line is one JSON object.
Exits 0 even when the goal is missed.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from reelfactory.edit.assemble import assemble
from reelfactory.edit.timeline import build_timeline
from reelfactory.intake import parse_brief, plan
from reelfactory.models import AspectRatio, BrandKit, ShotList
from reelfactory.render import get_renderer, requests_for
from reelfactory.render.cache import render_cached
from reelfactory.revision import revise
from reelfactory.settings import Settings
from reelfactory.storage import LocalAssetStore

GOAL_RATIO = 0.30
BRIEF = {
    "id": "bench-revision",
    "brand": "aurora-coffee",
    "format": "training-explainer-60",
    "title": "The Aurora pour-over, in four steps",
    "message": "A great pour-over is patience, a scale and a steady hand.",
    "audience": "New baristas in Aurora Coffee shops",
    "call_to_action": "Practise it on your next shift",
    "steps": [
        "Rinse the paper filter",
        "Grind 18 g of Sunrise Blend",
        "Bloom with 40 g of water",
        "Pour slowly to 300 g",
    ],
    "duration_s": 60,
    "aspect_ratios": ["16:9"],
    "submitted_by": "jordan.pike@aurora-coffee.example",
}


def one_version(
    shots: ShotList, kit: BrandKit, store: LocalAssetStore, short_edge: int, out: Path
) -> tuple[float, int]:
    """Render (through the cache) and assemble one cut; seconds taken and shots rendered."""
    started = time.perf_counter()
    ratio = AspectRatio.LANDSCAPE
    renderer = get_renderer("animatic")
    results = [
        render_cached(renderer, r, store) for r in requests_for(shots, kit, ratio, short_edge)
    ]
    width, height = ratio.size(short_edge)
    refs = [r.ref for r in results]
    timeline = build_timeline(shots, refs, kit, ratio=ratio, width=width, height=height)
    sources = {s.index: store.fetch(r) for s, r in zip(shots.shots, refs, strict=True)}
    assemble(timeline, sources, out)
    return time.perf_counter() - started, sum(not r.reused for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short-edge", type=int, default=720)
    args = parser.parse_args()

    planned = plan(parse_brief(BRIEF), Settings())
    shots, kit = planned.shot_list, planned.kit
    revised = revise(shots, {3: "a close-up of the scale"})
    with tempfile.TemporaryDirectory() as tmp:
        store = LocalAssetStore(Path(tmp) / "assets")
        first_s, first_rendered = one_version(
            shots, kit, store, args.short_edge, Path(tmp) / "v1.mp4"
        )
        rev_s, rev_rendered = one_version(
            revised, kit, store, args.short_edge, Path(tmp) / "v2.mp4"
        )
    ratio = rev_s / first_s
    print(
        json.dumps(
            {
                "shots": len(shots.shots),
                "duration_s": shots.duration_s,
                "size": "x".join(map(str, AspectRatio.LANDSCAPE.size(args.short_edge))),
                "baseline_first_version_s": round(first_s, 2),
                "revision_s": round(rev_s, 2),
                "shots_rendered_first": first_rendered,
                "shots_rendered_revision": rev_rendered,
                "ratio": round(ratio, 3),
                "goal": {"ratio_max": GOAL_RATIO},
                "goal_met": ratio <= GOAL_RATIO,
            }
        )
    )


if __name__ == "__main__":
    main()
