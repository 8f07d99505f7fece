"""Render one shot into the asset store, reusing an identical earlier render."""

from __future__ import annotations

import time

from prefect import get_run_logger, task

from reelfactory.models import AssetRef
from reelfactory.render import RenderRequest, get_renderer
from reelfactory.render.cache import render_cached
from reelfactory.settings import Settings
from reelfactory.storage import LocalAssetStore


@task(name="render-shot", retries=2, retry_delay_seconds=[2, 10], tags=["render"])
def render_shot(request: RenderRequest, settings: Settings) -> AssetRef:
    """Render a shot unless a clip with the same cache key is already stored."""
    logger = get_run_logger()
    shot = request.shot
    size = f"{request.width}x{request.height}"
    label = f"shot {shot.index + 1}/{request.shot_count} ({shot.role}, {size})"
    started = time.perf_counter()
    result = render_cached(
        get_renderer(settings.renderer), request, LocalAssetStore(settings.assets_dir)
    )
    if result.reused:
        logger.info("%s: reused from the shot cache", label)
    else:
        logger.info("%s: rendered in %.1f s", label, time.perf_counter() - started)
    return result.ref
