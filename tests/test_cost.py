"""Cost records: what renders cost, what the shot cache saved, priced from settings. Pure."""

from __future__ import annotations

import pytest

from reelfactory.cost import Prices, describe_cost, render_cost, task_seconds
from reelfactory.models import AssetRef, CostRecord
from reelfactory.render import RenderedShot, RenderStats

REF = AssetRef(uri="file:///x.mp4", sha256="0" * 64, size=1, media_type="video/mp4")


def shot(reused: bool, device: str | None, load: float = 0, render: float = 0) -> RenderedShot:
    stats = None
    if device:
        peak = 20 * 2**30 if device == "cuda" else None
        stats = RenderStats(
            renderer="m",
            model="m",
            steps=30,
            device=device,
            frames_generated=9,
            load_s=load,
            render_s=render,
            peak_vram_bytes=peak,
        )
    return RenderedShot(ref=REF, reused=reused, stats=stats)


def test_renders_cost_their_device_seconds_and_reuse_saves_what_they_once_cost() -> None:
    cost = render_cost(
        [
            shot(False, "cuda", load=10, render=20),  # the cold one pays the load
            shot(False, "cuda", render=15),
            shot(True, "cuda", render=30),  # reused: its first render's seconds are saved
            shot(False, "cpu", render=2),
            shot(True, None),  # reused, cost unknown: counted, nothing saved
        ]
    )
    assert cost == CostRecord(
        renders=3,
        reused=2,
        gpu_s=45,
        cpu_s=2,
        saved_gpu_s=30,
        saved_cpu_s=0,
        peak_vram_bytes=20 * 2**30,
    )
    assert cost + CostRecord(renders=1, cpu_s=1.5) == cost.model_copy(
        update={"renders": 4, "cpu_s": 3.5}
    )
    assert render_cost([]) == CostRecord()


def test_prices_turn_seconds_into_money_only_when_every_price_is_known() -> None:
    prices = Prices(gpu_hour=2.5, cpu_hour=0.1, currency="EUR")
    assert prices.of(3600, 0) == 2.5
    assert prices.of(1800, 36) == pytest.approx(1.25 + 0.001)
    assert Prices(cpu_hour=0.1).of(10, 0) is None  # GPU seconds with no GPU price
    assert Prices().of(0, 0) == 0


def test_the_cost_line_says_what_was_spent_and_saved() -> None:
    cost = CostRecord(renders=2, reused=4, gpu_s=360, saved_gpu_s=720, peak_vram_bytes=2**31)
    line = describe_cost(cost, Prices(gpu_hour=3.0))
    assert line == (
        "2 shots rendered: 360.0 GPU-s, 0.0 CPU-s = 0.30 USD, peak VRAM 2.0 GiB; 4 reused from "
        "the shot cache, saving 720.0 GPU-s and 0.0 CPU-s (0.60 USD)"
    )
    assert "set REEL_PRICE_GPU_HOUR" in describe_cost(cost, Prices())


def test_task_seconds_sort_a_runs_tasks_into_assembly_and_moderation() -> None:
    runs = [
        ("plan-brief-0a1", 4.0),
        ("moderate-frames-7f2", 1.5),
        ("moderate-frames-9c3", 2.5),
        ("assemble-cut-111", 6.0),
        ("sign-cuts-222", 0.5),
        ("render-shot-333", 9.0),  # costed by its own render record, not here
        ("stage-cut-444", 1.0),
    ]
    got = task_seconds(runs)
    assert (got.assembly_s, got.moderation_s, got.cpu_s) == (6.5, 8.0, 0.0)
    assert (CostRecord(cpu_s=1.0) + got).cpu_total_s == 15.5
