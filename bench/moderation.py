"""Benchmark: text moderation of one prompt, every layer, on this machine.

Each prompt of the shipped evaluation set is moderated on its own (one call, as the CLI
and the flow do), after a warm-up that loads the models. Baseline, in the same run: the
same prompts through the built-in blocklist alone (the cheapest layer), which shows what
the classifier layers and the fail-closed runner add.
Goal (moderation issue): p95 of the full stack <= 50 ms per prompt.

Run: ``python bench/moderation.py [--n 200]``. The last line is one JSON object.
Exits 0 even when the goal is missed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from reelfactory.brand import brand_kit_by_id
from reelfactory.moderation import Policy, TextModerator, text_moderator
from reelfactory.moderation.dataset import DEFAULT_EVAL, load_dataset
from reelfactory.moderation.text import builtin_blocklist
from reelfactory.settings import Settings

GOAL_P95_MS = 50.0


def timings(moderator: TextModerator, texts: list[str]) -> list[float]:
    out = []
    for text in texts:
        started = time.perf_counter()
        moderator.text(text)
        out.append((time.perf_counter() - started) * 1000)
    return out


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="Prompts to time.")
    args = parser.parse_args()

    settings = Settings()
    texts = [row.text for row in load_dataset(DEFAULT_EVAL)][: args.n]
    kit = brand_kit_by_id(settings.brand_kits_dir, "aurora-coffee")
    full = text_moderator(settings, kit)
    baseline = TextModerator([builtin_blocklist()], Policy())

    started = time.perf_counter()
    full.text("warm-up: load every model once")
    load_s = time.perf_counter() - started
    timings(full, texts[:10])

    base_ms = timings(baseline, texts)
    full_ms = timings(full, texts)
    result = {
        "prompts": len(texts),
        "layers": [layer.name for layer in full.layers],
        "model_load_s": round(load_s, 2),
        "baseline_blocklist_p50_ms": round(statistics.median(base_ms), 2),
        "baseline_blocklist_p95_ms": round(p95(base_ms), 2),
        "full_p50_ms": round(statistics.median(full_ms), 2),
        "full_p95_ms": round(p95(full_ms), 2),
        "full_max_ms": round(max(full_ms), 2),
        "ratio_p50_full_to_baseline": round(
            statistics.median(full_ms) / statistics.median(base_ms), 1
        ),
        "goal": {"full_p95_ms_max": GOAL_P95_MS},
        "goal_met": p95(full_ms) <= GOAL_P95_MS,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
