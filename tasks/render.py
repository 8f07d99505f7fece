"""Render one shot into the asset store, reusing an identical earlier render."""

from __future__ import annotations

import time

from prefect import get_run_logger, task

from reelfactory.media import probe
from reelfactory.models import AssetRef
from reelfactory.render import RenderRequest, get_renderer
from reelfactory.render.cache import shot_cache_key
from reelfactory.storage import LocalAssetStore
from reelfactory.settings import Settings


@task(name="render-shot", retries=2, retry_delay_seconds=[2, 10], tags=["render"])
def render_shot(request: RenderRequest, settings: Settings) -> AssetRef:
    """Render a shot unless a clip with the same cache key is already stored."""
    logger = get_run_logger()
    store = LocalAssetStore(settings.assets_dir)
    key = f"shots/{shot_cache_key(settings.renderer, request)}.mp4"
    path = store.path_for(key)
    shot = request.shot
    label = f"shot {shot.index + 1}/{request.shot_count} ({shot.role}, {request.width}x{request.height})"
    if path.is_file():
        logger.info("%s: reused from the shot cache", label)
    else:
        started = time.perf_counter()
        get_renderer(settings.renderer).render(request, path)
        logger.info("%s: rendered in %.1f s", label, time.perf_counter() - started)
    return store.ref(key, "video/mp4", **probe(path))
