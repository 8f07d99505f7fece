"""Where bytes live: the asset store for work in progress.

``LocalAssetStore`` keeps intermediates (shots, draft cuts) under a local directory. The
publish targets (S3 and the local default) are in ``reelfactory.publish``.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from reelfactory.files import sha256_file
from reelfactory.models import AssetRef


class LocalAssetStore:
    """Content for work in progress, addressed by key under one root directory."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def path_for(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise ValueError(f"asset key escapes the store: {key!r}")
        return path

    def ref(self, key: str, media_type: str, **facts: float | int | None) -> AssetRef:
        """Describe an object already written under ``key``."""
        path = self.path_for(key)
        return AssetRef(
            uri=path.as_uri(),
            sha256=sha256_file(path),
            size=path.stat().st_size,
            media_type=media_type,
            **facts,
        )

    def local_path(self, ref: AssetRef) -> Path:
        parsed = urlparse(ref.uri)
        if parsed.scheme != "file":
            raise ValueError(f"not a local asset: {ref.uri}")
        path = Path(unquote(parsed.path))
        if sha256_file(path) != ref.sha256:
            raise ValueError(f"asset changed since it was recorded: {ref.uri}")
        return path
