"""What a video cost: the device seconds of its renders, priced, and what the cache saved. Pure.

Each render records its seconds and device beside its clip (``RenderStats``); a reused clip
carries what it once cost, which is what reusing it saved. Prices come from settings
(``REEL_PRICE_GPU_HOUR``, ``REEL_PRICE_CPU_HOUR``); without them, costs are seconds only.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field

from reelfactory.models import CostRecord
from reelfactory.render import RenderedShot
from reelfactory.settings import Settings


class Prices(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    gpu_hour: float | None = Field(default=None, ge=0)
    cpu_hour: float | None = Field(default=None, ge=0)
    currency: str = "USD"

    def of(self, gpu_s: float, cpu_s: float) -> float | None:
        """The price of those seconds, or None when a price they need is not set."""
        if (gpu_s and self.gpu_hour is None) or (cpu_s and self.cpu_hour is None):
            return None
        return round(gpu_s / 3600 * (self.gpu_hour or 0) + cpu_s / 3600 * (self.cpu_hour or 0), 4)


def prices_from(settings: Settings) -> Prices:
    return Prices(
        gpu_hour=settings.price_gpu_hour,
        cpu_hour=settings.price_cpu_hour,
        currency=settings.price_currency,
    )


def render_cost(shots: Iterable[RenderedShot]) -> CostRecord:
    """Sum what ``shots`` cost (rendered ones) and saved (reused ones)."""
    total = CostRecord()
    for shot in shots:
        stats = shot.stats
        seconds = (stats.load_s + stats.render_s) if stats else 0.0
        on_gpu = bool(stats and stats.device.startswith("cuda"))
        if shot.reused:
            part = CostRecord(
                reused=1,
                saved_gpu_s=seconds if on_gpu else 0.0,
                saved_cpu_s=0.0 if on_gpu else seconds,
            )
        else:
            part = CostRecord(
                renders=1,
                gpu_s=seconds if on_gpu else 0.0,
                cpu_s=0.0 if on_gpu else seconds,
                peak_vram_bytes=stats.peak_vram_bytes if stats else None,
            )
        total = total + part
    return total


ASSEMBLY_TASKS = ("assemble-cut", "sign-cuts")
MODERATION_TASKS = ("plan-brief", "moderate-frames", "moderate-revision")


def task_seconds(runs: Iterable[tuple[str, float]]) -> CostRecord:
    """Assembly and moderation seconds from a run's task runs (``(name, seconds)``; Prefect
    names a task run ``<task>-<suffix>``). Renders are costed by their own records."""
    assembly = moderation = 0.0
    for name, seconds in runs:
        task = name.rsplit("-", 1)[0]
        if task in ASSEMBLY_TASKS:
            assembly += seconds
        elif task in MODERATION_TASKS:
            moderation += seconds
    return CostRecord(assembly_s=round(assembly, 3), moderation_s=round(moderation, 3))


def describe_cost(cost: CostRecord, prices: Prices) -> str:
    """One markdown line for approvers and reports."""
    spent = prices.of(cost.gpu_s, cost.cpu_s)
    saved = prices.of(cost.saved_gpu_s, cost.saved_cpu_s)
    money = f" = {spent:.2f} {prices.currency}" if spent is not None else ""
    saving = f" ({saved:.2f} {prices.currency})" if saved is not None else ""
    unpriced = "" if spent is not None else " (set REEL_PRICE_GPU_HOUR / _CPU_HOUR to price it)"
    vram = f", peak VRAM {cost.peak_vram_bytes / 2**30:.1f} GiB" if cost.peak_vram_bytes else ""
    return (
        f"{cost.renders} shots rendered: {cost.gpu_s:.1f} GPU-s, {cost.cpu_s:.1f} CPU-s{money}"
        f"{vram}; {cost.reused} reused from the shot cache, saving "
        f"{cost.saved_gpu_s:.1f} GPU-s and {cost.saved_cpu_s:.1f} CPU-s{saving}{unpriced}"
    )
