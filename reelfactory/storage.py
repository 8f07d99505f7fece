"""Where bytes live: the asset store for work in progress, and the publish target.

- ``LocalAssetStore``: intermediates (shots, draft cuts) under a local directory.
- ``S3Publisher``: approved cuts to an S3 bucket through boto3.
- ``LocalPublisher``: the embedded default; the same key layout under a local directory.

Every write is atomic: an object is either absent or complete under its key.
"""

from __future__ import annotations

import base64
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import unquote, urlparse

from reelfactory.media import atomic_path, sha256_file
from reelfactory.models import AspectRatio, AssetRef
from reelfactory.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

PRESIGN_EXPIRY_S = 7 * 24 * 3600  # the longest SigV4 allows


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


def publish_key(prefix: str, brand: str, brief_id: str, ratio: AspectRatio, suffix: str) -> str:
    """Deterministic published key: a brief always lands in the same place."""
    return f"{prefix}/{brand}/{brief_id}/{brief_id}-{ratio.slug}{suffix}"


@dataclass(frozen=True)
class PublishedObject:
    bucket: str
    key: str
    uri: str
    link: str
    sha256: str
    size: int
    uploaded: bool  # False when an identical object was already there


class Publisher(Protocol):
    bucket: str

    def publish(
        self, src: Path, key: str, *, content_type: str, metadata: dict[str, str]
    ) -> PublishedObject: ...


class LocalPublisher:
    """Publishes into ``root/<key>``, mirroring the S3 layout. Files outlive the command."""

    bucket = "local"

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def publish(
        self, src: Path, key: str, *, content_type: str, metadata: dict[str, str]
    ) -> PublishedObject:
        digest = sha256_file(src)
        dest = self.root / key
        uploaded = not (dest.is_file() and sha256_file(dest) == digest)
        if uploaded:
            with atomic_path(dest) as tmp:
                shutil.copyfile(src, tmp)
        return PublishedObject(
            bucket=self.bucket,
            key=key,
            uri=dest.as_uri(),
            link=dest.as_uri(),
            sha256=digest,
            size=dest.stat().st_size,
            uploaded=uploaded,
        )


class S3Publisher:
    """Publishes to S3 with a SHA-256 checksum S3 verifies, idempotently.

    The whole-file SHA-256 is also stored as ``x-amz-meta-sha256``: S3's own checksum of a
    multipart upload is a checksum of checksums, never comparable with the file's.
    """

    def __init__(self, client: S3Client, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    def _existing_sha256(self, key: str) -> str | None:
        from botocore.exceptions import ClientError

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return None
            raise
        return head.get("Metadata", {}).get("sha256")

    def publish(
        self, src: Path, key: str, *, content_type: str, metadata: dict[str, str]
    ) -> PublishedObject:
        digest = sha256_file(src)
        size = src.stat().st_size
        uploaded = self._existing_sha256(key) != digest
        if uploaded:
            with src.open("rb") as body:
                # A single PUT is atomic: the key shows nothing until the upload completes.
                self.client.put_object(
                    Bucket=self.bucket,
                    Key=key,
                    Body=body,
                    ContentType=content_type,
                    ChecksumAlgorithm="SHA256",
                    ChecksumSHA256=base64.b64encode(bytes.fromhex(digest)).decode(),
                    Metadata={**metadata, "sha256": digest},
                )
            if self._existing_sha256(key) != digest:
                raise RuntimeError(f"s3://{self.bucket}/{key}: stored object does not match")
        link = self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=PRESIGN_EXPIRY_S
        )
        return PublishedObject(
            bucket=self.bucket,
            key=key,
            uri=f"s3://{self.bucket}/{key}",
            link=link,
            sha256=digest,
            size=size,
            uploaded=uploaded,
        )


def s3_client(settings: Settings) -> S3Client:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint_url,
        region_name=settings.s3_region,
        config=Config(
            signature_version="s3v4",
            # Local S3 servers need path-style; AWS itself resolves virtual-hosted style.
            s3={"addressing_style": "path" if settings.s3_endpoint_url else "auto"},
            retries={"max_attempts": 5, "mode": "standard"},
        ),
    )


def publisher_for(settings: Settings) -> Publisher:
    if settings.s3_bucket:
        return S3Publisher(s3_client(settings), settings.s3_bucket)
    return LocalPublisher(settings.local_publish_dir)
