"""Benchmark: our diffusers backend against the bare pipeline call, same model, same shot.

In one process, for one registry model:

  - ``first``: the first shot through ``DiffusersRenderer.render`` (loads the model: cold);
  - ``bare``: the warm pipeline object called directly with the arguments the backend uses;
  - ``ours``: the same shot through ``render`` again (warm): input checks, generation,
    resampling to the shot's frame rate, the H.264 encode and the cost record.

Routes alternate (bare, ours, bare, ours, ...); medians are compared. Goal (GPU-rendering
issue): ours <= 1.03 x bare, measured with a real model on a GPU. Without ``--model`` it
builds a tiny random Wan pipeline (tests/tiny_pipelines.py) so the benchmark cannot rot on
CPU; there the generation is so small that the encode dominates, and the ratio says little.

Run: ``python bench/render_gpu.py [--model ltx-video] [--registry FILE] [--steps N]
[--seconds S] [--runs 3]``. The last line is one JSON object. Exits 0 even when the goal is
missed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.tiny_pipelines

import torch

from reelfactory.brand import load_brand_kit
from reelfactory.models import AspectRatio, Shot, ShotDirection
from reelfactory.render import RenderRequest
from reelfactory.render.diffusion import DiffusersRenderer
from reelfactory.render.registry import load_registry
from reelfactory.settings import PROJECT_ROOT

GOAL_RATIO = 1.03
PROMPT = (
    "Slow push-in on a ceramic cup of coffee on a sunlit wooden counter at dawn, steam "
    "rising, warm morning light, shallow depth of field, 35 mm film look."
)


def tiny_registry(folder: Path) -> Path:
    from tests.tiny_pipelines import build_tiny_pipeline, registry_entry, write_registry

    weights = build_tiny_pipeline("wan", folder / "wan")
    entry = registry_entry("wan", weights, steps=4)
    return write_registry(folder / "models.yaml", {"tiny-wan": entry})


def shot_request(renderer: DiffusersRenderer, seconds: float) -> RenderRequest:
    kit = load_brand_kit(PROJECT_ROOT / "brand_kits" / "aurora-coffee")
    fps = 24
    frames = max(1, round(seconds * fps))
    shot = Shot(
        index=0,
        role="hook",
        name="hook",
        direction=ShotDirection(
            subject="a cup of coffee",
            action="steams",
            setting="a sunlit counter",
            framing="close-up",
            movement="slow push-in",
            lighting="dawn light",
            lens="35 mm",
        ),
        prompt=PROMPT,
        negative_prompt="blurry, text, watermark",
        frames=frames,
        fps=fps,
        seed=7,
    )
    width, height = renderer.spec.size(AspectRatio.LANDSCAPE)
    return RenderRequest(
        shot=shot,
        prompt=PROMPT,
        shot_count=1,
        width=width,
        height=height,
        palette=kit.palette,
        font=kit.font,
    )


def bare_call(renderer: DiffusersRenderer, request: RenderRequest) -> float:
    """The warm pipeline called directly, with the backend's own arguments."""
    pipe, _ = renderer.pool.get(renderer.spec, renderer.device, renderer.revision)
    kwargs = renderer.call_kwargs(request, renderer.check(request))
    started = time.perf_counter()
    with torch.inference_mode():
        pipe(**kwargs)
    if renderer.device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="registry model name (default: a tiny random Wan)")
    parser.add_argument("--registry", type=Path, help="extra registry YAML")
    parser.add_argument("--steps", type=int, help="override the model's inference steps")
    parser.add_argument("--seconds", type=float, default=1.0, help="shot length (default 1 s)")
    parser.add_argument("--runs", type=int, default=3, help="warm runs of each route")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        registry_path = args.registry
        name = args.model
        if name is None:
            registry_path, name = tiny_registry(work / "tiny"), "tiny-wan"
        spec = load_registry(registry_path).get(name)
        if args.steps:
            spec = spec.model_copy(update={"steps": args.steps})
        renderer = DiffusersRenderer(spec, device="auto", warm_pipelines=1)
        request = shot_request(renderer, args.seconds)
        print(
            f"{name} on {renderer.device}: {spec.steps} steps, {request.width}x"
            f"{request.height}, {renderer.check(request)} frames",
            flush=True,
        )

        started = time.perf_counter()
        first = renderer.render(request, work / "first.mp4")
        first_s = time.perf_counter() - started
        print(f"first shot (cold): {first_s:.2f} s (load {first.load_s:.2f} s)", flush=True)

        bare, ours, peaks = [], [], []
        for n in range(1, args.runs + 1):
            bare.append(bare_call(renderer, request))
            started = time.perf_counter()
            stats = renderer.render(request, work / f"ours-{n}.mp4")
            ours.append(time.perf_counter() - started)
            peaks.append(stats.peak_vram_bytes)
            print(
                f"run {n}: bare {bare[-1]:.3f} s, ours {ours[-1]:.3f} s "
                f"(generation {stats.render_s:.3f} s)",
                flush=True,
            )

    ratio = statistics.median(ours) / statistics.median(bare)
    gpu = torch.cuda.get_device_name(0) if renderer.device == "cuda" else None
    print(
        json.dumps(
            {
                "bench": "render_gpu",
                "model": name,
                "source": spec.source,
                "device": renderer.device,
                "gpu": gpu,
                "steps": spec.steps,
                "size": [request.width, request.height],
                "frames_generated": renderer.check(request),
                "first_shot_s": round(first_s, 3),
                "load_s": first.load_s,
                "second_shot_s": round(ours[0], 3),
                "bare_s": round(statistics.median(bare), 3),
                "ours_s": round(statistics.median(ours), 3),
                "ratio": round(ratio, 3),
                "goal": GOAL_RATIO,
                "met": ratio <= GOAL_RATIO,
                "peak_vram_bytes": max((p for p in peaks if p), default=None),
                "note": None if gpu else "CPU/tiny model: the encode dominates; not the goal",
            }
        )
    )


if __name__ == "__main__":
    main()
