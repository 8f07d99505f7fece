"""Content-addressed keys for rendered shots. Pure."""

from __future__ import annotations

import hashlib

from reelfactory.render import RenderRequest


def shot_cache_key(renderer: str, request: RenderRequest) -> str:
    """Everything that changes the pixels is in the key; nothing else is."""
    payload = f"{renderer}\n{request.model_dump_json()}"
    return hashlib.sha256(payload.encode()).hexdigest()
