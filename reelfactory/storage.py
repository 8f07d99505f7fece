"""Where bytes live: the asset store for work in progress (shots, draft cuts, signed cuts).

Tasks hand each other ``AssetRef``s (a URI and the bytes' SHA-256), never paths, so any task
can run on any worker. Two stores keep that promise:

- ``LocalAssetStore``: a directory (``REEL_DATA_DIR/assets``), the embedded default. Every
  task of a run sees the same disk.
- ``S3AssetStore``: ``REEL_ASSET_STORE=s3://bucket/prefix``, shared by every machine. A
  worker keeps what it wrote or read in a local cache named by SHA-256 (its data directory),
  so a clip is downloaded at most once per worker, and nothing else stays on its disk. The
  cache is kept under ``REEL_ASSET_CACHE_MAX_GIB``: least recently used files go first,
  never one used in the last hour (a task may be about to read it).

Either way a key holds a complete object or nothing: the local store moves finished files
into place, S3 shows a PUT only once it completes. Reading checks the bytes against the
reference's SHA-256, so an object replaced since it was recorded is an error, not a silent
swap. The publish targets (S3 and the local default) are in ``reelfactory.publish``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Protocol
from urllib.parse import unquote, urlparse

from reelfactory.files import atomic_path, sha256_file
from reelfactory.models import AssetRef

if TYPE_CHECKING:
    from reelfactory.publish import S3Target
    from reelfactory.settings import Settings


class AssetStore(Protocol):
    """Content for work in progress, addressed by key."""

    def put(self, key: str, src: Path, media_type: str, **facts: float | int | None) -> AssetRef:
        """Store the finished file ``src`` under ``key`` (``src`` is moved, not copied)."""
        ...

    def find(self, key: str, media_type: str) -> AssetRef | None:
        """The object stored under ``key``, or None when there is none."""
        ...

    def fetch(self, ref: AssetRef) -> Path:
        """A local file with exactly ``ref``'s bytes (read-only for the caller)."""
        ...

    def scratch(self) -> AbstractContextManager[Path]:
        """An empty local directory to write results in before ``put``; removed after."""
        ...


def check_key(key: str) -> str:
    """A relative key without ``..`` or empty segments: it cannot escape its store."""
    parts = PurePosixPath(key).parts
    if not key or key.startswith("/") or any(p in ("..", ".") for p in parts) or "//" in key:
        raise ValueError(f"asset key escapes the store: {key!r}")
    return key


def put_text(store: AssetStore, key: str, text: str, media_type: str) -> AssetRef:
    with store.scratch() as tmp:
        path = tmp / PurePosixPath(key).name
        path.write_text(text, encoding="utf-8")
        return store.put(key, path, media_type)


def read_text(store: AssetStore, key: str) -> str | None:
    ref = store.find(key, "text/plain")
    return None if ref is None else store.fetch(ref).read_text(encoding="utf-8")


class LocalAssetStore:
    """``root/<key>`` on one machine's disk: the embedded default."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def path_for(self, key: str) -> Path:
        path = (self.root / check_key(key)).resolve()
        if not path.is_relative_to(self.root):
            raise ValueError(f"asset key escapes the store: {key!r}")
        return path

    def put(self, key: str, src: Path, media_type: str, **facts: float | int | None) -> AssetRef:
        path = self.path_for(key)
        with atomic_path(path) as tmp:
            shutil.move(src, tmp)
        return self._ref(path, media_type, **facts)

    def find(self, key: str, media_type: str) -> AssetRef | None:
        path = self.path_for(key)
        return self._ref(path, media_type) if path.is_file() else None

    def fetch(self, ref: AssetRef) -> Path:
        parsed = urlparse(ref.uri)
        if parsed.scheme != "file":
            raise ValueError(f"not in the local asset store: {ref.uri}")
        path = Path(unquote(parsed.path))
        if not path.is_file():
            raise FileNotFoundError(f"asset is gone from the store: {ref.uri}")
        if sha256_file(path) != ref.sha256:
            raise ValueError(f"asset changed since it was recorded: {ref.uri}")
        return path

    def scratch(self) -> AbstractContextManager[Path]:
        # Beside the store, so finished files move into place with a rename.
        parent = self.root / ".scratch"
        parent.mkdir(parents=True, exist_ok=True)
        return _temporary_dir(parent)

    @staticmethod
    def _ref(path: Path, media_type: str, **facts: float | int | None) -> AssetRef:
        return AssetRef(
            uri=path.as_uri(),
            sha256=sha256_file(path),
            size=path.stat().st_size,
            media_type=media_type,
            **facts,
        )


@dataclass(frozen=True)
class CachedFile:
    path: Path
    size: int
    used_at: float  # mtime: set when written, touched on every hit


def to_evict(files: Iterable[CachedFile], max_bytes: int, protect_after: float) -> list[Path]:
    """The least recently used files whose removal brings the total under ``max_bytes``,
    never one used after ``protect_after``. Pure."""
    ordered = sorted(files, key=lambda f: f.used_at)
    total = sum(f.size for f in ordered)
    out = []
    for f in ordered:
        if total <= max_bytes or f.used_at > protect_after:
            break
        out.append(f.path)
        total -= f.size
    return out


PROTECT_S = 3600.0  # a file used this recently may be about to be read by a running task


class S3AssetStore:
    """``s3://bucket/prefix/<key>``: one store for every worker, with a local read cache.

    Objects carry their SHA-256 in metadata (``x-amz-meta-sha256``) and are checksummed on
    upload (``S3Target.put``). The cache holds files by SHA-256 only, so it can never serve
    stale bytes for a reference; it may be deleted at any time.
    """

    def __init__(
        self, target: S3Target, prefix: str, cache_dir: Path, cache_max_bytes: int = 20 << 30
    ) -> None:
        self.target = target
        self.prefix = prefix.strip("/")
        self.cache_dir = cache_dir.resolve()
        self.cache_max_bytes = cache_max_bytes

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{check_key(key)}" if self.prefix else check_key(key)

    def _cached(self, sha256: str, suffix: str) -> Path:
        return self.cache_dir / sha256[:2] / f"{sha256}{suffix}"

    def put(self, key: str, src: Path, media_type: str, **facts: float | int | None) -> AssetRef:
        from reelfactory.publish import Upload

        full = self._key(key)
        digest, size = sha256_file(src), src.stat().st_size
        stored = self.target.head(full)
        if stored is None or stored.sha256 != digest:
            self.target.put(
                Upload(
                    src=src,
                    key=full,
                    content_type=media_type,
                    metadata={},
                    cache_control="private, no-cache",
                ),
                digest,
            )
        cached = self._cached(digest, PurePosixPath(key).suffix)
        with atomic_path(cached) as tmp:  # what this worker wrote, it need not download
            shutil.move(src, tmp)
        self.trim()
        return AssetRef(
            uri=self.target.uri(full), sha256=digest, size=size, media_type=media_type, **facts
        )

    def find(self, key: str, media_type: str) -> AssetRef | None:
        full = self._key(key)
        stored = self.target.head(full)
        if stored is None:
            return None
        if stored.sha256 is None:
            raise ValueError(
                f"{self.target.uri(full)} has no sha256 metadata: it was not written by "
                "reelfactory; delete it or use another REEL_ASSET_STORE prefix"
            )
        return AssetRef(
            uri=self.target.uri(full), sha256=stored.sha256, size=stored.size, media_type=media_type
        )

    def fetch(self, ref: AssetRef) -> Path:
        parsed = urlparse(ref.uri)
        if parsed.scheme != "s3" or parsed.netloc != self.target.bucket:
            raise ValueError(f"not in the asset store s3://{self.target.bucket}: {ref.uri}")
        cached = self._cached(ref.sha256, PurePosixPath(parsed.path).suffix)
        if cached.is_file() and cached.stat().st_size == ref.size:
            os.utime(cached)  # recently used: the last to be evicted
            return cached
        with atomic_path(cached) as tmp:
            self.target.download(parsed.path.lstrip("/"), tmp)
            if sha256_file(tmp) != ref.sha256:
                raise ValueError(f"asset changed since it was recorded: {ref.uri}")
        self.trim()
        return cached

    def trim(self, now: float | None = None) -> list[Path]:
        """Evict least recently used cache files beyond the size limit; return them."""
        files = []
        for path in self.cache_dir.rglob("*"):
            with contextlib.suppress(FileNotFoundError):  # another process evicted it
                if path.is_file() and not path.name.startswith("."):
                    stat = path.stat()
                    files.append(CachedFile(path, stat.st_size, stat.st_mtime))
        protect_after = (now if now is not None else time.time()) - PROTECT_S
        evicted = to_evict(files, self.cache_max_bytes, protect_after)
        for path in evicted:
            path.unlink(missing_ok=True)
        return evicted

    def scratch(self) -> AbstractContextManager[Path]:
        parent = self.cache_dir.parent / "scratch"  # same filesystem as the cache
        parent.mkdir(parents=True, exist_ok=True)
        return _temporary_dir(parent)


@contextmanager
def _temporary_dir(parent: Path) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(dir=parent) as tmp:
        yield Path(tmp)


def parse_asset_store(url: str) -> tuple[str, str]:
    """``s3://bucket/prefix`` -> (bucket, prefix); anything else is a ValueError naming it."""
    parsed = urlparse(url)
    if parsed.scheme != "s3" or not parsed.netloc or parsed.query or parsed.fragment:
        raise ValueError(f"REEL_ASSET_STORE must look like s3://bucket/prefix, not {url!r}")
    return parsed.netloc, parsed.path.strip("/")


def asset_store_for(settings: Settings) -> AssetStore:
    """S3 when ``REEL_ASSET_STORE`` is set; ``REEL_DATA_DIR/assets`` otherwise."""
    if not settings.asset_store:
        return LocalAssetStore(settings.assets_dir)
    from reelfactory.publish import S3Target, s3_client

    bucket, prefix = parse_asset_store(settings.asset_store)
    return S3AssetStore(
        S3Target(s3_client(settings), bucket, settings),
        prefix,
        settings.data_dir / "cache",
        cache_max_bytes=int(settings.asset_cache_max_gib * (1 << 30)),
    )
