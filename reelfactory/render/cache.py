"""The shot cache: a rendered clip is stored under a key of everything that changes its pixels.

A rejected cut re-renders only the shots whose request changed; every other shot is reused.
"""

from __future__ import annotations

import hashlib

from reelfactory.files import atomic_path
from reelfactory.media import probe
from reelfactory.render import RenderedShot, Renderer, RenderRequest, RenderStats
from reelfactory.storage import LocalAssetStore


def shot_cache_key(renderer: str, request: RenderRequest) -> str:
    """Everything that changes the pixels is in the key; nothing else is. Pure."""
    payload = f"{renderer}\n{request.model_dump_json()}"
    return hashlib.sha256(payload.encode()).hexdigest()


def render_cached(
    renderer: Renderer, request: RenderRequest, store: LocalAssetStore
) -> RenderedShot:
    """Return the stored clip for ``request``, rendering it first if nobody has yet.

    Renderers write through ``atomic_path``, so a key that exists holds a complete clip. What
    a render cost is kept beside its clip (``<key>.json``): a reused clip reports what it
    once cost, which is what reusing it saved.
    """
    key = f"shots/{shot_cache_key(f'{renderer.name}@{renderer.revision}', request)}"
    path, record = store.path_for(f"{key}.mp4"), store.path_for(f"{key}.json")
    reused = path.is_file()
    if reused:
        stats = RenderStats.model_validate_json(record.read_text()) if record.is_file() else None
    else:
        stats = renderer.render(request, path)
        if stats is not None:
            with atomic_path(record) as tmp:
                tmp.write_text(stats.model_dump_json(indent=2), encoding="utf-8")
    ref = store.ref(f"{key}.mp4", "video/mp4", **probe(path))
    return RenderedShot(ref=ref, reused=reused, stats=stats)
