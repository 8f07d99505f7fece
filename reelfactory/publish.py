"""Publishing that loses nothing: staged keys, checksums, idempotency, immutable versions.

Layout (under the publish prefix, or the bucket root with an empty prefix)::

    {brand}/{campaign}/{brief_id}/v{version}/{ratio}.mp4      H.264/AAC cut
                                            /{ratio}.vtt      captions
                                            /{ratio}.srt      subtitles
                                            /manifest.json    written last

The rules, each with a test:

- **Manifest last.** Every deliverable is uploaded (and verified) before the manifest. A
  consumer that sees a manifest can trust every file it lists; a failed publish leaves none.
- **Idempotent.** A file already there with the same SHA-256 is not uploaded again; a version
  whose manifest lists the same files is reported as already published.
- **Immutable.** A different file under an existing key is refused before anything is
  written: a version never changes once published.
- **Checksummed.** S3 gets SHA-256 checksums (whole object, or per part for multipart) and
  what it stored is compared with what we computed. The whole-file SHA-256 also goes into the
  ``x-amz-meta-sha256`` metadata, since a multipart checksum is a checksum of checksums.
- **Retries.** Transient errors are retried by botocore (standard mode) and by the Prefect
  task; permanent ones (access denied, no such bucket) raise ``PermanentPublishError`` at
  once, naming the bucket and key. Credentials never reach a message or a log line.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol
from urllib.parse import quote

from reelfactory.errors import ReelError
from reelfactory.files import atomic_path, sha256_file
from reelfactory.models import (
    ApprovalDecision,
    ApprovalRef,
    AspectRatio,
    Brief,
    Cut,
    Manifest,
    ManifestFile,
)
from reelfactory.provenance import verify_video
from reelfactory.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MANIFEST = "manifest.json"
MAX_SEGMENT = 64
IMMUTABLE_CACHE = "public, max-age=31536000, immutable"
PERMANENT_CODES = {
    "AccessDenied",
    "AllAccessDisabled",
    "InvalidAccessKeyId",
    "InvalidBucketName",
    "NoSuchBucket",
    "SignatureDoesNotMatch",
    "InvalidClientTokenId",
    "AuthorizationHeaderMalformed",
}


class PublishError(ReelError):
    """A publish that cannot complete."""


class PermanentPublishError(PublishError):
    """Retrying will not help: wrong bucket, credentials or permissions."""


class PublishVerificationError(PermanentPublishError):
    """What was published does not read back as what was approved."""


class ImmutableVersionError(PublishError):
    """A published version already holds a different file under this key."""


# --------------------------------------------------------------------------- keys (pure)


def safe_segment(text: str, max_len: int = MAX_SEGMENT) -> str:
    """One key segment: lowercase ASCII slug, no dots or slashes, bounded length.

    Brief fields are validated slugs already; this is the last line of defence, so a value
    like ``../../etc`` or 2,000 characters can never escape or bloat a key.
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:max_len].strip("-")
    if not slug:
        digest = hashlib.sha256(text.encode()).hexdigest()[:12]
        slug = f"x-{digest}"
    return slug


def version_prefix(prefix: str, brand: str, campaign: str, brief_id: str, version: int) -> str:
    parts = [safe_segment(brand), safe_segment(campaign), safe_segment(brief_id), f"v{version}"]
    root = "/".join(safe_segment(segment) for segment in prefix.split("/") if segment.strip())
    return "/".join([root, *parts]) if root else "/".join(parts)


def deliverable_key(version_root: str, ratio: AspectRatio, suffix: str) -> str:
    return f"{version_root}/{ratio.slug}{suffix}"


def content_disposition(filename: str) -> str:
    """``inline`` so browsers play it, with a safe download name (RFC 6266 + RFC 5987)."""
    fallback = re.sub(r"[^A-Za-z0-9._-]+", "_", filename)[:120]
    return f"inline; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"


def manifest_bytes(manifest: Manifest) -> bytes:
    """Canonical JSON: the same manifest always serialises to the same bytes."""
    data = manifest.model_dump(mode="json", by_alias=True)
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def composite_sha256(path: Path, part_size: int) -> str:
    """S3's checksum of a multipart upload: SHA-256 over the parts' SHA-256 digests."""
    digests = b"".join(hashlib.sha256(chunk).digest() for chunk in _parts(path, part_size))
    return base64.b64encode(hashlib.sha256(digests).digest()).decode()


def _parts(path: Path, part_size: int) -> Iterator[bytes]:
    with path.open("rb") as f:
        while chunk := f.read(part_size):
            yield chunk


# --------------------------------------------------------------------------- targets


@dataclass(frozen=True)
class Upload:
    """One file to publish, with the headers it is served with."""

    src: Path
    key: str
    content_type: str
    metadata: dict[str, str]
    content_disposition: str = ""
    cache_control: str = IMMUTABLE_CACHE


@dataclass(frozen=True)
class Stored:
    key: str
    sha256: str | None  # None when the target cannot say (an object from elsewhere)
    size: int


class Target(Protocol):
    """Where published objects go: a bucket, or a local directory with the same layout."""

    bucket: str

    def head(self, key: str) -> Stored | None: ...

    def put(self, upload: Upload, sha256: str) -> None: ...

    def get(self, key: str) -> bytes: ...

    def uri(self, key: str) -> str: ...

    def link(self, key: str) -> str: ...

    def abort_incomplete(self, prefix: str, older_than: timedelta) -> int: ...


class LocalTarget:
    """The embedded default: ``root/<key>`` on disk. Files outlive the command."""

    bucket = "local"

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise PublishError(f"publish key escapes {self.root}: {key!r}")
        return path

    def head(self, key: str) -> Stored | None:
        path = self.path(key)
        if not path.is_file():
            return None
        return Stored(key=key, sha256=sha256_file(path), size=path.stat().st_size)

    def put(self, upload: Upload, sha256: str) -> None:
        with atomic_path(self.path(upload.key)) as tmp:
            shutil.copyfile(upload.src, tmp)
            if sha256_file(tmp) != sha256:
                raise PublishError(f"{upload.key}: copy does not match its source")

    def get(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def uri(self, key: str) -> str:
        return self.path(key).as_uri()

    def link(self, key: str) -> str:
        return self.uri(key)

    def abort_incomplete(self, prefix: str, older_than: timedelta) -> int:
        return 0  # atomic_path leaves no partial files behind


class S3Target:
    """An S3 bucket through boto3: checksummed single or multipart uploads."""

    def __init__(self, client: S3Client, bucket: str, settings: Settings) -> None:
        self.client = client
        self.bucket = bucket
        self.part_size = settings.s3_part_size_mib * 1024 * 1024
        self.threshold = settings.s3_multipart_threshold_mib * 1024 * 1024
        self.link_expiry_s = settings.s3_link_expiry_s
        self.public_url_template = settings.s3_public_url_template
        self.extra: dict[str, str] = {}
        if settings.s3_sse:
            self.extra["ServerSideEncryption"] = settings.s3_sse
        if settings.s3_kms_key_id:
            self.extra["SSEKMSKeyId"] = settings.s3_kms_key_id
        if settings.s3_tags:
            self.extra["Tagging"] = "&".join(
                f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in settings.s3_tags.items()
            )

    def _fail(self, exc: Exception, key: str, action: str) -> PublishError:
        from botocore.exceptions import ClientError

        where = f"s3://{self.bucket}/{key}"
        if isinstance(exc, ClientError):
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            text = f"{action} {where} failed: {code} ({error.get('Message', '')})"
            if code in PERMANENT_CODES:
                return PermanentPublishError(text)
            return PublishError(text)
        return PublishError(f"{action} {where} failed: {type(exc).__name__}: {exc}")

    def head(self, key: str) -> Stored | None:
        from botocore.exceptions import ClientError

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in {"404", "NoSuchKey", "NotFound"}:
                return None
            if code == "403":
                code = "AccessDenied"  # HEAD has no body; S3 says 403 only
                exc.response["Error"]["Code"] = code
            raise self._fail(exc, key, "HEAD") from None
        return Stored(
            key=key, sha256=head.get("Metadata", {}).get("sha256"), size=head["ContentLength"]
        )

    def put(self, upload: Upload, sha256: str) -> None:
        size = upload.src.stat().st_size
        args: dict[str, object] = {
            "ContentType": upload.content_type,
            "CacheControl": upload.cache_control,
            "Metadata": {**upload.metadata, "sha256": sha256},
            **(
                {"ContentDisposition": upload.content_disposition}
                if upload.content_disposition
                else {}
            ),
            **self.extra,
        }
        try:
            if size >= self.threshold:
                expected = self._multipart(upload, args)
            else:
                expected = base64.b64encode(bytes.fromhex(sha256)).decode()
                with upload.src.open("rb") as body:
                    # A single PUT is atomic: the key shows nothing until it completes.
                    self.client.put_object(
                        Bucket=self.bucket,
                        Key=upload.key,
                        Body=body,
                        ChecksumAlgorithm="SHA256",
                        ChecksumSHA256=expected,
                        **args,  # type: ignore[arg-type]
                    )
            head = self.client.head_object(
                Bucket=self.bucket, Key=upload.key, ChecksumMode="ENABLED"
            )
        except PublishError:
            raise
        except Exception as exc:
            raise self._fail(exc, upload.key, "PUT") from exc
        stored = head.get("ChecksumSHA256", "").split("-")[0]
        if stored and stored != expected:
            raise PublishError(
                f"s3://{self.bucket}/{upload.key}: S3 stored checksum {stored}, we sent {expected}"
            )
        if head.get("Metadata", {}).get("sha256") != sha256 or head["ContentLength"] != size:
            raise PublishError(f"s3://{self.bucket}/{upload.key}: stored object does not match")

    def _multipart(self, upload: Upload, args: dict[str, object]) -> str:
        """Upload in parts, each with its SHA-256; abort on any failure. Returns the
        composite checksum S3 should report."""
        started = self.client.create_multipart_upload(
            Bucket=self.bucket,
            Key=upload.key,
            ChecksumAlgorithm="SHA256",
            **args,  # type: ignore[arg-type]
        )
        upload_id = started["UploadId"]
        try:
            parts = []
            for number, chunk in enumerate(_parts(upload.src, self.part_size), start=1):
                digest = base64.b64encode(hashlib.sha256(chunk).digest()).decode()
                resp = self.client.upload_part(
                    Bucket=self.bucket,
                    Key=upload.key,
                    UploadId=upload_id,
                    PartNumber=number,
                    Body=chunk,
                    ChecksumAlgorithm="SHA256",
                    ChecksumSHA256=digest,
                )
                parts.append({"ETag": resp["ETag"], "PartNumber": number, "ChecksumSHA256": digest})
            self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=upload.key,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},  # type: ignore[typeddict-item]
            )
        except BaseException:
            # If even the abort fails, the next publish's cleanup aborts the orphan.
            with contextlib.suppress(Exception):
                self.client.abort_multipart_upload(
                    Bucket=self.bucket, Key=upload.key, UploadId=upload_id
                )
            raise
        return composite_sha256(upload.src, self.part_size)

    def get(self, key: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except Exception as exc:
            raise self._fail(exc, key, "GET") from exc

    def download(self, key: str, dest: Path) -> None:
        """Stream ``key`` into ``dest`` (a file the caller makes atomic)."""
        try:
            with dest.open("wb") as out:
                body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
                for chunk in body.iter_chunks(1 << 20):
                    out.write(chunk)
        except Exception as exc:
            raise self._fail(exc, key, "GET") from exc

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def link(self, key: str) -> str:
        if self.public_url_template:
            return self.public_url_template.format(bucket=self.bucket, key=quote(key))
        return self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=self.link_expiry_s
        )

    def abort_incomplete(self, prefix: str, older_than: timedelta) -> int:
        """Abort multipart uploads under ``prefix`` started before ``older_than`` ago."""
        cutoff = datetime.now(UTC) - older_than
        aborted = 0
        try:
            resp = self.client.list_multipart_uploads(Bucket=self.bucket, Prefix=prefix)
            for up in resp.get("Uploads", []):
                if up["Initiated"] <= cutoff:
                    self.client.abort_multipart_upload(
                        Bucket=self.bucket, Key=up["Key"], UploadId=up["UploadId"]
                    )
                    aborted += 1
        except Exception as exc:
            raise self._fail(exc, prefix, "cleaning up incomplete uploads under") from exc
        return aborted


def staging_target_for(settings: Settings) -> Target | None:
    """Where drafts go for review: the staging bucket (or the publish bucket), or None when
    publishing locally (approvers then open the asset store's files directly)."""
    bucket = settings.s3_staging_bucket or settings.s3_bucket
    if not bucket:
        return None
    return S3Target(s3_client(settings), bucket, settings)


def stage_draft(
    target: Target,
    *,
    prefix: str,
    brief: Brief,
    flow_run_id: str,
    ratio: AspectRatio,
    files: list[tuple[Path, str, str]],
    version: int = 1,
) -> list[str]:
    """Upload a draft cut's files (path, suffix, content type) for review; return their links.

    Drafts live under ``{staging}/{brand}/{campaign}/{brief}/{flow_run}/`` (``.../v2/`` and on
    for revisions): never under the published prefix, and private to whoever holds a link.
    """
    root = "/".join(
        safe_segment(part)
        for part in [
            *[seg for seg in prefix.split("/") if seg.strip()],
            brief.brand,
            brief.campaign,
            brief.brief_id,
            flow_run_id,
            *([f"v{version}"] if version > 1 else []),
        ]
    )
    links = []
    for path, suffix, content_type in files:
        key = deliverable_key(root, ratio, suffix)
        digest = sha256_file(path)
        stored = target.head(key)
        if stored is None or stored.sha256 != digest:
            target.put(
                Upload(
                    src=path,
                    key=key,
                    content_type=content_type,
                    metadata={"brief-id": brief.brief_id, "flow-run-id": flow_run_id},
                    cache_control="private, no-cache",
                ),
                digest,
            )
        links.append(target.link(key))
    return links


def s3_client(settings: Settings) -> S3Client:
    import boto3
    from botocore.config import Config

    style = settings.s3_addressing_style or ("path" if settings.s3_endpoint_url else "auto")
    # A fresh session resolves the standard credential chain now, not when first imported.
    return boto3.session.Session().client(
        "s3",
        endpoint_url=settings.s3_endpoint_url,
        region_name=settings.s3_region,
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": style},
            retries={"max_attempts": settings.s3_max_attempts, "mode": "standard"},
            connect_timeout=10,
            read_timeout=60,
        ),
    )


def target_for(settings: Settings) -> Target:
    """S3 when ``REEL_S3_BUCKET`` is set; the local publish directory otherwise."""
    if settings.s3_bucket:
        return S3Target(s3_client(settings), settings.s3_bucket, settings)
    return LocalTarget(settings.local_publish_dir)


# --------------------------------------------------------------------------- a version


@dataclass(frozen=True)
class CutFiles:
    """One approved cut's local files, with what the asset store knows of them."""

    cut: Cut
    video: Path
    captions: Path
    subtitles: Path
    cover: Path | None = None
    edit: Path | None = None


@dataclass(frozen=True)
class CutKeys:
    video: str
    captions: str
    subtitles: str
    cover: str = ""
    edit: str = ""


@dataclass(frozen=True)
class VersionPlan:
    uploads: list[Upload]
    manifest: Manifest
    manifest_key: str
    keys: list[CutKeys]  # per cut, in order


def plan_version(
    *,
    cuts: list[CutFiles],
    brief: Brief,
    decision: ApprovalDecision,
    version: int,
    prefix: str,
    c2pa: Literal["unsigned", "signed"] = "unsigned",
) -> VersionPlan:
    """The uploads and the manifest of one approved version. Pure."""
    root = version_prefix(prefix, brief.brand, brief.campaign, brief.brief_id, version)
    metadata = {
        "brief-id": brief.brief_id,
        "brand": brief.brand,
        "campaign": brief.campaign,
        "version": str(version),
        "approved-by": ",".join(decision.approvers),
        "flow-run-id": decision.flow_run_id,
        "c2pa": c2pa,
    }
    uploads: list[Upload] = []
    files: list[ManifestFile] = []
    keys: list[dict[str, str]] = []
    for item in cuts:
        ratio = item.cut.aspect_ratio
        keys.append({})
        extras = [
            (role, path, ref, suffix, content_type)
            for role, path, ref, suffix, content_type in (
                ("cover", item.cover, item.cut.cover, ".jpg", "image/jpeg"),
                ("edit", item.edit, item.cut.edit, ".otio", "application/json"),
            )
            if path is not None and ref is not None
        ]
        for role, path, ref, suffix, content_type in (
            ("captions", item.captions, item.cut.captions, ".vtt", "text/vtt; charset=utf-8"),
            ("subtitles", item.subtitles, item.cut.subtitles, ".srt", "application/x-subrip"),
            *extras,
            ("video", item.video, item.cut.video, ".mp4", "video/mp4"),
        ):
            key = deliverable_key(root, ratio, suffix)
            keys[-1][role] = key
            uploads.append(
                Upload(
                    src=path,
                    key=key,
                    content_type=content_type,
                    metadata={**metadata, "aspect-ratio": ratio.value},
                    content_disposition=content_disposition(
                        f"{brief.brief_id}-v{version}-{ratio.slug}{suffix}"
                    ),
                )
            )
            files.append(
                ManifestFile(
                    key=key,
                    role=role,
                    aspect_ratio=ratio,
                    sha256=ref.sha256,
                    size=ref.size,
                    content_type=content_type,
                    duration_s=ref.duration_s,
                    width=ref.width,
                    height=ref.height,
                )
            )
    manifest = Manifest(
        brand=brief.brand,
        campaign=brief.campaign,
        brief_id=brief.brief_id,
        version=version,
        approval=ApprovalRef(
            flow_run_id=decision.flow_run_id,
            approver=decision.approver,
            approvers=decision.approvers,
            decided_at=decision.decided_at,
            notes=decision.notes,
        ),
        c2pa=c2pa,
        files=files,
    )
    return VersionPlan(
        uploads=uploads,
        manifest=manifest,
        manifest_key=f"{root}/{MANIFEST}",
        keys=[CutKeys(**k) for k in keys],
    )


@dataclass(frozen=True)
class VersionResult:
    manifest_key: str
    already_published: bool
    uploaded: list[str]
    aborted_uploads: int


def publish_version(
    target: Target,
    uploads: list[Upload],
    manifest: Manifest,
    manifest_key: str,
    *,
    stale_uploads_after: timedelta = timedelta(hours=1),
) -> VersionResult:
    """Publish ``uploads`` then ``manifest``; see the module docstring for the rules.

    Raises:
        ImmutableVersionError: a key already holds different bytes (checked before any write).
        PermanentPublishError / PublishError: the target refused or failed.
    """
    prefix = manifest_key.rsplit("/", 1)[0] + "/"
    aborted = target.abort_incomplete(prefix, stale_uploads_after)
    digests = {u.key: sha256_file(u.src) for u in uploads}
    listed = {f.key: f.sha256 for f in manifest.files}
    for key, digest in digests.items():
        if listed.get(key) != digest:
            raise PublishError(f"manifest does not list {key} with sha256 {digest}")

    existing_manifest = target.head(manifest_key)
    if existing_manifest is not None:
        current = Manifest.model_validate_json(target.get(manifest_key))
        if current.same_files(manifest):
            return VersionResult(manifest_key, True, [], aborted)
        raise ImmutableVersionError(
            f"{target.uri(manifest_key)} already publishes version {current.version} of "
            f"{current.brief_id} with other files; published versions are immutable "
            f"(publish a new version instead)"
        )

    pending: list[Upload] = []
    for upload in uploads:  # check every key before writing any
        stored = target.head(upload.key)
        if stored is None:
            pending.append(upload)
        elif stored.sha256 != digests[upload.key]:
            raise ImmutableVersionError(
                f"{target.uri(upload.key)} already holds a different file "
                f"(sha256 {stored.sha256}, ours {digests[upload.key]}); "
                f"published versions are immutable"
            )
    for upload in pending:
        target.put(upload, digests[upload.key])

    body = manifest_bytes(manifest)
    with tempfile.TemporaryDirectory(prefix="reel-manifest-") as tmp:
        path = Path(tmp) / MANIFEST
        path.write_bytes(body)
        target.put(
            Upload(
                src=path,
                key=manifest_key,
                content_type="application/json",
                metadata={"brief-id": manifest.brief_id, "version": str(manifest.version)},
            ),
            hashlib.sha256(body).hexdigest(),
        )
    return VersionResult(manifest_key, False, [u.key for u in pending], aborted)


def publish_first_free_version(
    target: Target,
    plan: Callable[[int], VersionPlan],
    *,
    stale_uploads_after: timedelta = timedelta(hours=1),
    max_versions: int = 100,
) -> tuple[VersionPlan, VersionResult]:
    """Publish as the lowest version that is free or already holds exactly these files.

    Approving the same files again (a retried task, a re-run of an identical brief) is
    "already published" in the version that holds them. Other files for the same brief (a
    re-run after the kit changed, a model that is not bit-exact) become the next version:
    published versions never change, and an approval is never lost to an earlier one.
    """
    for version in range(1, max_versions + 1):
        planned = plan(version)
        try:
            result = publish_version(
                target,
                planned.uploads,
                planned.manifest,
                planned.manifest_key,
                stale_uploads_after=stale_uploads_after,
            )
        except ImmutableVersionError:
            continue  # this version holds other files: try the next
        return planned, result
    root = plan(1).manifest_key.rsplit("/", 2)[0]
    raise ImmutableVersionError(
        f"{target.uri(root)}: versions 1 to {max_versions} all hold other files; "
        "publish under another brief id"
    )


@dataclass(frozen=True)
class Verification:
    manifest: Manifest | None
    problems: list[str]

    @property
    def ok(self) -> bool:
        return self.manifest is not None and not self.problems


def verify_version(
    target: Target, manifest_key: str, *, trust_anchors_pem: bytes | None = None
) -> Verification:
    """Re-download a published version and check every file against its manifest, and each
    video's C2PA manifest when the version says its videos are signed."""
    if target.head(manifest_key) is None:
        return Verification(
            None, [f"{target.uri(manifest_key)}: no manifest (never published, or incomplete)"]
        )
    manifest = Manifest.model_validate_json(target.get(manifest_key))
    problems: list[str] = []
    for f in manifest.files:
        if target.head(f.key) is None:
            problems.append(f"{f.key}: missing")
            continue
        data = target.get(f.key)
        digest = hashlib.sha256(data).hexdigest()
        if digest != f.sha256 or len(data) != f.size:
            problems.append(
                f"{f.key}: sha256 {digest} ({len(data)} bytes), "
                f"manifest says {f.sha256} ({f.size} bytes)"
            )
        if f.role == "video" and manifest.c2pa == "signed":
            problems += _c2pa_problems(f.key, data, trust_anchors_pem)
    return Verification(manifest, problems)


def _c2pa_problems(key: str, data: bytes, trust_anchors_pem: bytes | None) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "video.mp4")
        path.write_bytes(data)
        check = verify_video(path, trust_anchors_pem=trust_anchors_pem)
    if check.state in ("trusted", "valid"):
        return []
    return [f"{key}: C2PA manifest {check.state}" + "".join(f"; {e}" for e in check.errors)]
