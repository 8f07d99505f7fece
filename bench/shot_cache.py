"""Benchmark: what the shot cache saves when a rejected cut is re-rendered.

Baseline: render every shot of the example brief from scratch (no cache).
Candidates, on the same machine in the same run:
  - ``one_changed``: the approver's notes changed one shot; the other two come from the cache;
  - ``all_cached``: nothing changed (e.g. a second aspect-ratio pass or a retried run).

Run: ``python bench/shot_cache.py [--short-edge 720]``. The last line is one JSON object.
Exits 0 even when the goal is missed.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from reelfactory.intake import load_brief, plan
from reelfactory.models import AspectRatio
from reelfactory.render import get_renderer, requests_for
from reelfactory.render.cache import render_cached
from reelfactory.settings import PROJECT_ROOT, Settings
from reelfactory.storage import LocalAssetStore

BRIEF = PROJECT_ROOT / "examples" / "briefs" / "aurora-coffee-launch.yaml"
GOAL_ALL_CACHED = 0.05  # a fully cached pass costs at most 5% of a cold render
GOAL_ONE_CHANGED = 0.5  # one changed shot of three costs at most half a cold render


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short-edge", type=int, default=720)
    args = parser.parse_args()

    brief = load_brief(BRIEF)
    planned = plan(brief, Settings())
    shots, kit = planned.shot_list, planned.kit
    requests = requests_for(shots, kit, AspectRatio.LANDSCAPE, args.short_edge)
    renderer = get_renderer("animatic")

    with tempfile.TemporaryDirectory() as tmp:
        baseline_dir, cached_dir = Path(tmp, "baseline"), Path(tmp, "cached")
        baseline_dir.mkdir()

        started = time.perf_counter()
        for req in requests:
            renderer.render(req, baseline_dir / f"{req.shot.index}.mp4")
        cold_s = time.perf_counter() - started
        print(f"cold render of {len(requests)} shots: {cold_s:.2f} s", flush=True)

        store = LocalAssetStore(cached_dir)
        for req in requests:  # fill the cache, as the first run of the brief would
            render_cached(renderer, req, store)

        started = time.perf_counter()
        hits = [render_cached(renderer, req, store).reused for req in requests]
        all_cached_s = time.perf_counter() - started
        assert all(hits), "every shot should have come from the cache"
        print(f"all shots from the cache: {all_cached_s:.3f} s", flush=True)

        changed = requests[1].model_copy(
            update={"shot": requests[1].shot.model_copy(update={"prompt": "Reworked per notes."})}
        )
        started = time.perf_counter()
        reused = [
            render_cached(renderer, r, store).reused for r in [requests[0], changed, *requests[2:]]
        ]
        one_changed_s = time.perf_counter() - started
        assert reused.count(False) == 1
        print(f"one shot changed, rest from the cache: {one_changed_s:.2f} s", flush=True)

    size = f"{requests[0].width}x{requests[0].height}"
    print(
        json.dumps(
            {
                "benchmark": "shot_cache",
                "shots": len(requests),
                "size": size,
                "frames": shots.total_frames,
                "baseline_cold_render_s": round(cold_s, 3),
                "all_cached_s": round(all_cached_s, 4),
                "one_changed_s": round(one_changed_s, 3),
                "ratio_all_cached": round(all_cached_s / cold_s, 4),
                "ratio_one_changed": round(one_changed_s / cold_s, 3),
                "goal": {
                    "ratio_all_cached_max": GOAL_ALL_CACHED,
                    "ratio_one_changed_max": GOAL_ONE_CHANGED,
                },
                "goal_met": all_cached_s / cold_s <= GOAL_ALL_CACHED
                and one_changed_s / cold_s <= GOAL_ONE_CHANGED,
            }
        )
    )


if __name__ == "__main__":
    main()
