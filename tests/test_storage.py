"""The asset stores: the local directory and S3 (a moto server on 127.0.0.1, through boto3),
held to the same contract, plus what only S3 has (a cache per worker, metadata checks)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from uuid import uuid4

import pytest
from mypy_boto3_s3 import S3Client

from reelfactory.files import atomic_path
from reelfactory.settings import Settings
from reelfactory.storage import (
    AssetStore,
    CachedFile,
    LocalAssetStore,
    S3AssetStore,
    asset_store_for,
    put_text,
    read_text,
    to_evict,
)
from tests.conftest import keys_in


def test_atomic_path_leaves_nothing_on_failure(tmp_path: Path) -> None:
    dest = tmp_path / "out" / "final.mp4"
    with pytest.raises(RuntimeError), atomic_path(dest) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("encoder died")
    assert list((tmp_path / "out").iterdir()) == []


def s3_settings(endpoint: str, bucket: str, data_dir: Path) -> Settings:
    return Settings(
        data_dir=data_dir, s3_endpoint_url=endpoint, asset_store=f"s3://{bucket}/wip/team a"
    )


@pytest.fixture
def wip(s3: S3Client) -> str:
    name = f"reel-wip-{uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path, s3_endpoint: str, wip: str) -> AssetStore:
    if request.param == "local":
        return asset_store_for(Settings(data_dir=tmp_path / "data"))
    return asset_store_for(s3_settings(s3_endpoint, wip, tmp_path / "worker-a"))


Written = Callable[[str, bytes], Path]


@pytest.fixture
def written(tmp_path: Path) -> Written:
    """Writes a finished file outside any store, as a renderer leaves one for ``put``."""

    def write(name: str, data: bytes) -> Path:
        path = tmp_path / "src" / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        return path

    return write


def test_put_find_fetch_round_trip(store: AssetStore, written: Written) -> None:
    src = written("clip.mp4", b"frames")
    ref = store.put("shots/abc.mp4", src, "video/mp4", width=64, height=32)
    assert not src.exists()  # moved, not copied
    assert (ref.size, ref.media_type, ref.width, ref.height) == (6, "video/mp4", 64, 32)
    assert store.fetch(ref).read_bytes() == b"frames"
    found = store.find("shots/abc.mp4", "video/mp4")
    assert found is not None and (found.uri, found.sha256) == (ref.uri, ref.sha256)
    assert store.find("shots/missing.mp4", "video/mp4") is None
    put_text(store, "shots/abc.json", '{"render_s": 1.5}', "application/json")
    assert read_text(store, "shots/abc.json") == '{"render_s": 1.5}'
    assert read_text(store, "shots/missing.json") is None


@pytest.mark.parametrize("key", ["../../etc/passwd", "/etc/passwd", "a/../../b", "a//b", ""])
def test_keys_cannot_escape_the_store(store: AssetStore, key: str) -> None:
    with pytest.raises(ValueError, match="escapes"):
        store.find(key, "text/plain")


def test_a_replaced_object_is_refused_not_read(store: AssetStore, written: Written) -> None:
    first = store.put("drafts/a.vtt", written("a.vtt", b"one"), "text/vtt")
    store.put("drafts/a.vtt", written("a2.vtt", b"two"), "text/vtt")
    if isinstance(store, S3AssetStore):  # this worker cached what it wrote: drop that copy
        for cached in store.cache_dir.rglob(f"{first.sha256}*"):
            cached.unlink()
    with pytest.raises(ValueError, match="changed since it was recorded"):
        store.fetch(first)


def test_local_store_refuses_a_reference_from_elsewhere(tmp_path: Path) -> None:
    store = LocalAssetStore(tmp_path)
    ref = put_text(store, "a.txt", "x", "text/plain")
    with pytest.raises(ValueError, match="not in the local asset store"):
        store.fetch(ref.model_copy(update={"uri": "s3://bucket/a.txt"}))
    Path(ref.uri.removeprefix("file://")).unlink()
    with pytest.raises(FileNotFoundError, match="gone"):
        store.fetch(ref)


def test_s3_workers_share_objects_through_the_bucket_only(
    tmp_path: Path, written: Written, s3_endpoint: str, bucket: str, s3: S3Client
) -> None:
    """Two workers with separate data directories: what one writes the other reads, by
    downloading it once into its own cache; the bucket holds the object and its checksum."""
    a = asset_store_for(s3_settings(s3_endpoint, bucket, tmp_path / "worker-a"))
    b = asset_store_for(s3_settings(s3_endpoint, bucket, tmp_path / "worker-b"))
    assert isinstance(a, S3AssetStore) and isinstance(b, S3AssetStore)
    ref = a.put("shots/k.mp4", written("k.mp4", b"clip bytes"), "video/mp4")
    assert ref.uri == f"s3://{bucket}/wip/team a/shots/k.mp4"
    assert keys_in(s3, bucket) == ["wip/team a/shots/k.mp4"]
    head = s3.head_object(Bucket=bucket, Key="wip/team a/shots/k.mp4")
    assert head["Metadata"]["sha256"] == ref.sha256 and head["ContentType"] == "video/mp4"

    assert not list((tmp_path / "worker-b").rglob("*.mp4"))
    path = b.fetch(ref)
    assert path.is_relative_to(tmp_path / "worker-b") and path.read_bytes() == b"clip bytes"
    s3.delete_object(Bucket=bucket, Key="wip/team a/shots/k.mp4")
    assert b.fetch(ref) == path  # from b's cache now: no second download

    # A put of the same bytes under the same key uploads nothing: the object is untouched.
    again = a.put("shots/k.mp4", written("k.mp4", b"clip bytes"), "video/mp4")
    assert again.sha256 == ref.sha256 and keys_in(s3, bucket) == ["wip/team a/shots/k.mp4"]


def test_s3_object_without_our_checksum_is_named_not_trusted(
    tmp_path: Path, s3_endpoint: str, bucket: str, s3: S3Client
) -> None:
    store = asset_store_for(s3_settings(s3_endpoint, bucket, tmp_path))
    s3.put_object(Bucket=bucket, Key="wip/team a/shots/x.mp4", Body=b"someone else's")
    with pytest.raises(ValueError, match=r"shots/x\.mp4 has no sha256 metadata"):
        store.find("shots/x.mp4", "video/mp4")


@pytest.mark.parametrize("url", ["bucket/prefix", "s3://", "https://b/p", "s3://b/p?x=1"])
def test_a_bad_asset_store_url_is_named(url: str) -> None:
    with pytest.raises(ValueError, match="REEL_ASSET_STORE must look like s3://bucket/prefix"):
        Settings(asset_store=url)


def test_eviction_takes_the_least_recently_used_and_spares_the_last_hour() -> None:
    files = [
        CachedFile(Path("old"), 40, used_at=100.0),
        CachedFile(Path("older"), 40, used_at=50.0),
        CachedFile(Path("recent"), 40, used_at=5000.0),
    ]
    assert to_evict(files, max_bytes=200, protect_after=1000.0) == []  # under the limit
    assert to_evict(files, max_bytes=80, protect_after=1000.0) == [Path("older")]
    assert to_evict(files, max_bytes=40, protect_after=1000.0) == [Path("older"), Path("old")]
    # Over the limit, but what is left was used within the hour: it stays.
    assert to_evict(files, max_bytes=0, protect_after=1000.0) == [Path("older"), Path("old")]


def test_s3_cache_stays_under_its_limit_and_refetches_what_it_evicted(
    tmp_path: Path, written: Written, s3_endpoint: str, wip: str
) -> None:
    settings = s3_settings(s3_endpoint, wip, tmp_path / "w").model_copy(
        update={"asset_cache_max_gib": 25 / (1 << 30)}  # 25 bytes
    )
    store = asset_store_for(settings)
    assert isinstance(store, S3AssetStore) and store.cache_max_bytes == 25
    refs = [store.put(f"k{i}.bin", written(f"k{i}.bin", bytes([i]) * 10), "x/y") for i in range(3)]
    cached = {r.sha256: store.fetch(r) for r in refs}
    assert all(p.is_file() for p in cached.values())  # 30 bytes, but all used just now
    for age, ref in zip((3, 2, 1), refs, strict=True):  # hours since each was last used
        os.utime(cached[ref.sha256], (time.time() - age * 3600,) * 2)
    evicted = store.trim()
    assert evicted == [cached[refs[0].sha256]]  # the oldest; 20 bytes are left
    assert store.fetch(refs[0]).read_bytes() == bytes([0]) * 10  # downloaded again
