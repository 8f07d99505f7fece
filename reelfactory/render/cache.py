"""The shot cache: a rendered clip is stored under a key of everything that changes its pixels.

A rejected cut re-renders only the shots whose request changed; every other shot is reused.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from reelfactory.media import probe
from reelfactory.models import AssetRef
from reelfactory.render import Renderer, RenderRequest
from reelfactory.storage import LocalAssetStore


def shot_cache_key(renderer: str, request: RenderRequest) -> str:
    """Everything that changes the pixels is in the key; nothing else is. Pure."""
    payload = f"{renderer}\n{request.model_dump_json()}"
    return hashlib.sha256(payload.encode()).hexdigest()


@dataclass(frozen=True)
class CachedRender:
    ref: AssetRef
    reused: bool


def render_cached(
    renderer: Renderer, request: RenderRequest, store: LocalAssetStore
) -> CachedRender:
    """Return the stored clip for ``request``, rendering it first if nobody has yet.

    Renderers write through ``atomic_path``, so a key that exists holds a complete clip.
    """
    key = f"shots/{shot_cache_key(f'{renderer.name}@{renderer.revision}', request)}.mp4"
    path = store.path_for(key)
    reused = path.is_file()
    if not reused:
        renderer.render(request, path)
    return CachedRender(ref=store.ref(key, "video/mp4", **probe(path)), reused=reused)
