from __future__ import annotations

import base64
import hashlib
import urllib.request
from pathlib import Path

import pytest
from mypy_boto3_s3 import S3Client

from reelfactory.media import atomic_path
from reelfactory.models import AspectRatio
from reelfactory.settings import Settings
from reelfactory.storage import (
    LocalAssetStore,
    LocalPublisher,
    S3Publisher,
    publish_key,
    publisher_for,
)


@pytest.fixture
def video(tmp_path: Path) -> Path:
    path = tmp_path / "cut.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 100)
    return path


def test_publish_key_is_deterministic() -> None:
    key = publish_key("published", "aurora-coffee", "launch", AspectRatio.PORTRAIT, ".mp4")
    assert key == "published/aurora-coffee/launch/launch-9x16.mp4"


def test_s3_publish_checksums_metadata_and_link(s3: S3Client, bucket: str, video: Path) -> None:
    publisher = S3Publisher(s3, bucket)
    key = "published/b/x/x-16x9.mp4"
    obj = publisher.publish(video, key, content_type="video/mp4", metadata={"brief-id": "x"})
    digest = hashlib.sha256(video.read_bytes()).hexdigest()
    assert (obj.uri, obj.sha256, obj.size, obj.uploaded) == (
        f"s3://{bucket}/{key}",
        digest,
        video.stat().st_size,
        True,
    )
    head = s3.head_object(Bucket=bucket, Key=key)
    assert head["Metadata"] == {"brief-id": "x", "sha256": digest}
    assert head["ContentType"] == "video/mp4"
    attrs = s3.get_object_attributes(Bucket=bucket, Key=key, ObjectAttributes=["Checksum"])
    assert attrs["Checksum"]["ChecksumSHA256"] == base64.b64encode(bytes.fromhex(digest)).decode()
    with urllib.request.urlopen(obj.link) as resp:  # presigned GET works without credentials
        assert hashlib.sha256(resp.read()).hexdigest() == digest


def test_s3_publish_is_idempotent(s3: S3Client, bucket: str, video: Path) -> None:
    publisher = S3Publisher(s3, bucket)
    first = publisher.publish(video, "k.mp4", content_type="video/mp4", metadata={})
    etag = s3.head_object(Bucket=bucket, Key="k.mp4")["LastModified"]
    again = publisher.publish(video, "k.mp4", content_type="video/mp4", metadata={})
    assert first.uploaded and not again.uploaded
    assert s3.head_object(Bucket=bucket, Key="k.mp4")["LastModified"] == etag
    video.write_bytes(b"changed")
    assert publisher.publish(video, "k.mp4", content_type="video/mp4", metadata={}).uploaded


def test_publisher_for_settings(tmp_path: Path, s3_endpoint: str) -> None:
    assert isinstance(publisher_for(Settings(data_dir=tmp_path)), LocalPublisher)
    s3p = publisher_for(Settings(data_dir=tmp_path, s3_bucket="b", s3_endpoint_url=s3_endpoint))
    assert isinstance(s3p, S3Publisher) and s3p.bucket == "b"


def test_local_publish_mirrors_layout_and_is_idempotent(tmp_path: Path, video: Path) -> None:
    publisher = LocalPublisher(tmp_path / "bucket")
    obj = publisher.publish(video, "published/a/b.mp4", content_type="video/mp4", metadata={})
    dest = tmp_path / "bucket" / "published" / "a" / "b.mp4"
    assert dest.read_bytes() == video.read_bytes()
    assert obj.uri == dest.as_uri() and obj.uploaded
    assert not publisher.publish(
        video, "published/a/b.mp4", content_type="video/mp4", metadata={}
    ).uploaded


def test_atomic_path_leaves_nothing_on_failure(tmp_path: Path) -> None:
    dest = tmp_path / "out" / "final.mp4"
    with pytest.raises(RuntimeError), atomic_path(dest) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("encoder died")
    assert list((tmp_path / "out").iterdir()) == []


def test_asset_store_refuses_escaping_keys(tmp_path: Path) -> None:
    store = LocalAssetStore(tmp_path)
    with pytest.raises(ValueError, match="escapes"):
        store.path_for("../../etc/passwd")


def test_asset_store_detects_changed_bytes(tmp_path: Path) -> None:
    store = LocalAssetStore(tmp_path)
    store.path_for("a.txt").write_text("one")
    ref = store.ref("a.txt", "text/plain")
    assert store.local_path(ref) == store.path_for("a.txt")
    store.path_for("a.txt").write_text("two")
    with pytest.raises(ValueError, match="changed"):
        store.local_path(ref)
