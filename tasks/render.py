"""Render one shot into the asset store, reusing an identical earlier render.

The asset store is the shot cache's source of truth: a clip is reused when its key
(``render.cache.shot_cache_key``) exists there, whichever run, brief or campaign made it.
Prefect's own task cache is scoped to one flow run (``INPUTS + RUN_ID``): across runs it
never answers for a clip the store no longer holds; within a run it hands a run resumed from
suspension each shot's first result, so its cost record still counts the renders it paid for.
"""

from __future__ import annotations

import time
from contextlib import nullcontext
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import INPUTS, RUN_ID
from prefect.concurrency.sync import concurrency

from reelfactory.render import RenderedShot, RenderRequest, RenderStats, get_renderer
from reelfactory.render.cache import render_cached
from reelfactory.settings import Settings
from reelfactory.storage import asset_store_for


def gpu_slot(settings: Settings) -> Any:
    """Hold this worker's GPU slot (a Prefect global concurrency limit) while rendering.

    ``strict=True``: a limit named in settings but missing on the server is an error, not
    a silent free-for-all on the GPU.
    """
    name = settings.gpu_concurrency_limit
    return concurrency(name, occupy=1, strict=True) if name else nullcontext()


def describe(stats: RenderStats) -> str:
    vram = f", peak VRAM {stats.peak_vram_bytes / 2**30:.2f} GiB" if stats.peak_vram_bytes else ""
    load = f" (+{stats.load_s:.1f} s loading the model)" if stats.load_s else ""
    return (
        f"{stats.frames_generated} frames, {stats.steps} steps of {stats.renderer} on "
        f"{stats.device} in {stats.render_s:.1f} s{load}{vram}"
    )


@task(
    name="render-shot",
    retries=1,
    retry_delay_seconds=5,
    tags=["render"],
    # Within one flow run only: a run resumed from suspension gets each shot's first result
    # (its render stats included) back. Across runs the asset store alone decides.
    cache_policy=INPUTS + RUN_ID,
    persist_result=True,
)
def render_shot(request: RenderRequest, settings: Settings, batch: str = "") -> RenderedShot:
    """Render a shot unless a clip with the same cache key is already stored.

    ``batch`` names the version the shot is rendered for (``<run>-v<N>``): it keeps the
    run-scoped task cache to one version, so a revision asks the store again and counts the
    shots it reuses as reused.
    """
    logger = get_run_logger()
    shot = request.shot
    size = f"{request.width}x{request.height}"
    label = f"shot {shot.index + 1}/{request.shot_count} ({shot.role}, {size})"
    started = time.perf_counter()
    renderer = get_renderer(settings.renderer, settings)
    with gpu_slot(settings):
        result = render_cached(renderer, request, asset_store_for(settings))
    if result.reused:
        logger.info("%s: reused from the shot cache", label)
    elif result.stats is not None and result.stats.steps:
        logger.info("%s: %s", label, describe(result.stats))
    else:
        logger.info("%s: rendered in %.1f s", label, time.perf_counter() - started)
    return result
