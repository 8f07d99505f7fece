"""The shot cache: a rendered clip is stored under a key of everything that changes its pixels.

A rejected cut re-renders only the shots whose request changed; every other shot is reused.
"""

from __future__ import annotations

import hashlib

from reelfactory.media import probe
from reelfactory.render import RenderedShot, Renderer, RenderRequest, RenderStats
from reelfactory.storage import AssetStore, put_text, read_text


def shot_cache_key(renderer: str, request: RenderRequest) -> str:
    """Everything that changes the pixels is in the key; nothing else is. Pure."""
    payload = f"{renderer}\n{request.model_dump_json()}"
    return hashlib.sha256(payload.encode()).hexdigest()


def render_cached(renderer: Renderer, request: RenderRequest, store: AssetStore) -> RenderedShot:
    """Return the stored clip for ``request``, rendering it first if nobody has yet.

    What a render cost is kept beside its clip (``<key>.json``), and stored first: the clip
    is the commit point, so a clip found always has its record. A reused clip reports what
    it once cost, which is what reusing it saved.
    """
    key = f"shots/{shot_cache_key(f'{renderer.name}@{renderer.revision}', request)}"
    found = store.find(f"{key}.mp4", "video/mp4")
    if found is not None:
        record = read_text(store, f"{key}.json")
        stats = RenderStats.model_validate_json(record) if record is not None else None
        ref = found.model_copy(update=probe(store.fetch(found)))
        return RenderedShot(ref=ref, reused=True, stats=stats)
    with store.scratch() as tmp:
        clip = tmp / "clip.mp4"
        stats = renderer.render(request, clip)
        if stats is not None:
            put_text(store, f"{key}.json", stats.model_dump_json(indent=2), "application/json")
        ref = store.put(f"{key}.mp4", clip, "video/mp4", **probe(clip))
    return RenderedShot(ref=ref, reused=False, stats=stats)
