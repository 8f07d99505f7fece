"""Publishing against a real S3 HTTP server on 127.0.0.1 (moto), through boto3."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from mypy_boto3_s3 import S3Client

from reelfactory.models import ApprovalDecision, AspectRatio, AssetRef, Brief, Cut, Decision
from reelfactory.publish import (
    CutFiles,
    ImmutableVersionError,
    LocalTarget,
    PermanentPublishError,
    S3Target,
    Upload,
    VersionPlan,
    composite_sha256,
    plan_version,
    publish_first_free_version,
    publish_version,
    s3_client,
    safe_segment,
    stage_draft,
    staging_target_for,
    target_for,
    verify_version,
    version_prefix,
)
from reelfactory.settings import Settings
from tests.conftest import brief_data, keys_in
from tests.s3_faults import DroppingProxy, locked_s3

MIB = 1024 * 1024


def asset(path: Path, media_type: str, **facts: float | int) -> AssetRef:
    data = path.read_bytes()
    return AssetRef(
        uri=path.as_uri(),
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        media_type=media_type,
        **facts,
    )


def make_cut(folder: Path, ratio: AspectRatio, video_bytes: bytes) -> CutFiles:
    folder.mkdir(parents=True, exist_ok=True)
    video, vtt, srt = folder / "cut.mp4", folder / "cut.vtt", folder / "cut.srt"
    video.write_bytes(video_bytes)
    vtt.write_text("WEBVTT\n\n1\n00:00:00.000 --> 00:00:01.000\nHi\n")
    srt.write_text("1\n00:00:00,000 --> 00:00:01,000\nHi\n")
    cut = Cut(
        aspect_ratio=ratio,
        video=asset(video, "video/mp4", duration_s=1.0, width=64, height=36),
        captions=asset(vtt, "text/vtt"),
        subtitles=asset(srt, "application/x-subrip"),
    )
    return CutFiles(cut=cut, video=video, captions=vtt, subtitles=srt)


def plan_for(
    tmp_path: Path, video_bytes: bytes = b"video" * 1000, version: int = 1, **brief: object
) -> VersionPlan:
    b = Brief.model_validate(brief_data(**brief))
    decision = ApprovalDecision(
        brief_id=b.brief_id,
        flow_run_id="run-1",
        approver="maya.chen@aurora-coffee.example",
        decision=Decision.APPROVE,
        accepted=True,
        notes="on brand",
        decided_at=datetime(2026, 11, 28, 9, 30, tzinfo=UTC),
    )
    cuts = [make_cut(tmp_path / "cut-16x9", AspectRatio.LANDSCAPE, video_bytes)]
    return plan_version(cuts=cuts, brief=b, decision=decision, version=version, prefix="published")


def s3_settings(endpoint: str, bucket: str, **overrides: object) -> Settings:
    return Settings(s3_endpoint_url=endpoint, s3_bucket=bucket, **overrides)  # type: ignore[arg-type]


class RecordingTarget(S3Target):
    """The real S3 target, noting the order of its writes."""

    puts: list[str]

    def put(self, upload: Upload, sha256: str) -> None:
        self.puts.append(upload.key)
        super().put(upload, sha256)


def recording(settings: Settings) -> RecordingTarget:
    assert settings.s3_bucket
    target = RecordingTarget(s3_client(settings), settings.s3_bucket, settings)
    target.puts = []
    return target


# --------------------------------------------------------------------------- keys


def test_layout_is_deterministic(tmp_path: Path) -> None:
    plan = plan_for(tmp_path, id="launch", campaign="spring-26")
    root = "published/aurora-coffee/spring-26/launch/v1"
    assert plan.manifest_key == f"{root}/manifest.json"
    assert [u.key for u in plan.uploads] == [
        f"{root}/16x9.vtt",
        f"{root}/16x9.srt",
        f"{root}/16x9.mp4",
    ]
    assert plan_for(tmp_path, id="launch", campaign="spring-26") == plan


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("../../etc", "etc"),
        ("/leading/slash", "leading-slash"),
        ("Crème Brûlée\x00\u202e!", "creme-brulee"),
        ("a" * 2000, "a" * 64),
        ("…", None),  # nothing usable left: a stable hash-derived segment
    ],
)
def test_key_segments_are_safe(value: str, expected: str | None) -> None:
    segment = safe_segment(value)
    assert "/" not in segment and ".." not in segment and len(segment) <= 64
    assert segment.isascii() and segment == segment.strip("-")
    assert segment == expected if expected else segment.startswith("x-")
    root = version_prefix("published", value, value, value, 3)
    assert not root.startswith("/") and ".." not in root and root.endswith("/v3")


def test_hostile_title_publishes_under_a_safe_key(tmp_path: Path) -> None:
    plan = plan_for(tmp_path, id=None, title="../../etc " + "x" * 100)
    for upload in plan.uploads:
        assert ".." not in upload.key and not upload.key.startswith("/")
        assert len(upload.key) < 200
    assert 'filename="' in plan.uploads[0].content_disposition


# --------------------------------------------------------------------------- S3


def test_publish_uploads_everything_then_the_manifest(
    s3: S3Client, s3_endpoint: str, bucket: str, tmp_path: Path
) -> None:
    settings = s3_settings(s3_endpoint, bucket, s3_sse="AES256", s3_tags={"team": "brand studio"})
    target = recording(settings)
    plan = plan_for(tmp_path)
    result = publish_version(target, plan.uploads, plan.manifest, plan.manifest_key)

    assert not result.already_published
    assert target.puts == [*(u.key for u in plan.uploads), plan.manifest_key]  # manifest last
    assert keys_in(s3, bucket) == sorted(target.puts)

    manifest = json.loads(s3.get_object(Bucket=bucket, Key=plan.manifest_key)["Body"].read())
    assert manifest["schema"] == "reelfactory.publication/1"
    assert manifest["approval"]["approver"] == "maya.chen@aurora-coffee.example"
    assert manifest["c2pa"] == "unsigned"
    for f in manifest["files"]:
        body = s3.get_object(Bucket=bucket, Key=f["key"])["Body"].read()
        assert hashlib.sha256(body).hexdigest() == f["sha256"] and len(body) == f["size"]

    video_key = plan.uploads[-1].key
    head = s3.head_object(Bucket=bucket, Key=video_key, ChecksumMode="ENABLED")
    digest = plan.manifest.files[-1].sha256
    assert head["ContentType"] == "video/mp4"
    assert head["CacheControl"] == "public, max-age=31536000, immutable"
    assert head["ContentDisposition"].startswith('inline; filename="test-brief-v1-16x9.mp4"')
    assert head["ServerSideEncryption"] == "AES256"
    assert head["ChecksumSHA256"] == base64.b64encode(bytes.fromhex(digest)).decode()
    assert head["Metadata"] == {
        "brief-id": "test-brief",
        "brand": "aurora-coffee",
        "campaign": "adhoc",
        "version": "1",
        "approved-by": "maya.chen@aurora-coffee.example",
        "flow-run-id": "run-1",
        "c2pa": "unsigned",
        "aspect-ratio": "16:9",
        "sha256": digest,
    }
    tags = s3.get_object_tagging(Bucket=bucket, Key=video_key)["TagSet"]
    assert tags == [{"Key": "team", "Value": "brand studio"}]


def test_republishing_the_same_version_changes_nothing(
    s3: S3Client, s3_endpoint: str, bucket: str, tmp_path: Path
) -> None:
    target = recording(s3_settings(s3_endpoint, bucket))
    plan = plan_for(tmp_path)
    publish_version(target, plan.uploads, plan.manifest, plan.manifest_key)
    before = {k: s3.head_object(Bucket=bucket, Key=k)["ETag"] for k in keys_in(s3, bucket)}
    target.puts.clear()

    again = publish_version(target, plan.uploads, plan.manifest, plan.manifest_key)
    assert again.already_published and again.uploaded == [] and target.puts == []
    assert {k: s3.head_object(Bucket=bucket, Key=k)["ETag"] for k in keys_in(s3, bucket)} == before


def test_a_different_file_under_a_published_key_is_refused(
    s3: S3Client, s3_endpoint: str, bucket: str, tmp_path: Path
) -> None:
    target = recording(s3_settings(s3_endpoint, bucket))
    first = plan_for(tmp_path / "a")
    publish_version(target, first.uploads, first.manifest, first.manifest_key)
    manifest_before = s3.get_object(Bucket=bucket, Key=first.manifest_key)["Body"].read()
    target.puts.clear()

    other = plan_for(tmp_path / "b", video_bytes=b"different pixels")
    with pytest.raises(ImmutableVersionError, match="published versions are immutable"):
        publish_version(target, other.uploads, other.manifest, other.manifest_key)
    assert target.puts == []  # refused before writing anything
    assert s3.get_object(Bucket=bucket, Key=first.manifest_key)["Body"].read() == manifest_before


def test_other_files_for_a_published_brief_become_its_next_version(
    s3: S3Client, s3_endpoint: str, bucket: str, tmp_path: Path
) -> None:
    """A second approval of the same brief with other bytes is v2; v1 is untouched; the same
    bytes again are found where they were published, in either version."""
    target = recording(s3_settings(s3_endpoint, bucket))

    def planner(folder: str, video: bytes) -> Callable[[int], VersionPlan]:
        return lambda version: plan_for(tmp_path / folder, video_bytes=video, version=version)

    one, result = publish_first_free_version(target, planner("a", b"first pixels"))
    assert (one.manifest.version, result.already_published) == (1, False)
    v1 = s3.get_object(Bucket=bucket, Key=one.manifest_key)["Body"].read()

    two, result = publish_first_free_version(target, planner("b", b"other pixels"))
    assert (two.manifest.version, result.already_published) == (2, False)
    assert two.manifest_key == one.manifest_key.replace("/v1/", "/v2/")
    assert s3.get_object(Bucket=bucket, Key=one.manifest_key)["Body"].read() == v1

    target.puts.clear()
    again, result = publish_first_free_version(target, planner("c", b"other pixels"))
    assert (again.manifest.version, result.already_published) == (2, True)
    assert target.puts == []  # nothing written: it is already there
    with pytest.raises(ImmutableVersionError, match="versions 1 to 2 all hold other files"):
        publish_first_free_version(target, planner("d", b"third pixels"), max_versions=2)


def test_an_interrupted_publish_resumes_and_refuses_conflicts(
    s3: S3Client, s3_endpoint: str, bucket: str, tmp_path: Path
) -> None:
    """Deliverables without a manifest (a publish that died): the same files finish it."""
    target = recording(s3_settings(s3_endpoint, bucket))
    plan = plan_for(tmp_path / "a")
    video = plan.uploads[-1]
    target.put(video, plan.manifest.files[-1].sha256)  # only the video made it
    conflicting = plan_for(tmp_path / "b", video_bytes=b"other")
    with pytest.raises(ImmutableVersionError, match="already holds a different file"):
        publish_version(target, conflicting.uploads, conflicting.manifest, conflicting.manifest_key)
    assert plan.manifest_key not in keys_in(s3, bucket)

    target.puts.clear()
    result = publish_version(target, plan.uploads, plan.manifest, plan.manifest_key)
    assert target.puts == [plan.uploads[0].key, plan.uploads[1].key, plan.manifest_key]
    assert result.uploaded == [plan.uploads[0].key, plan.uploads[1].key]


def test_large_files_go_multipart_with_part_checksums(
    s3: S3Client, s3_endpoint: str, bucket: str, tmp_path: Path
) -> None:
    settings = s3_settings(s3_endpoint, bucket, s3_multipart_threshold_mib=5, s3_part_size_mib=5)
    target = recording(settings)
    plan = plan_for(tmp_path, video_bytes=os.urandom(11 * MIB))
    publish_version(target, plan.uploads, plan.manifest, plan.manifest_key)

    video = plan.uploads[-1]
    head = s3.head_object(Bucket=bucket, Key=video.key, ChecksumMode="ENABLED")
    composite = composite_sha256(video.src, 5 * MIB)
    assert head["ChecksumSHA256"].split("-")[0] == composite  # a checksum of 3 part checksums
    assert composite != base64.b64encode(hashlib.sha256(video.src.read_bytes()).digest()).decode()
    assert head["Metadata"]["sha256"] == hashlib.sha256(video.src.read_bytes()).hexdigest()
    assert head["ContentLength"] == 11 * MIB
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_a_dropped_connection_mid_multipart_is_retried(
    s3: S3Client, s3_endpoint: str, bucket: str, tmp_path: Path
) -> None:
    host, port = s3_endpoint.removeprefix("http://").split(":")
    proxy = DroppingProxy((host, int(port)), trigger=b"partNumber=2")
    try:
        settings = s3_settings(
            proxy.endpoint, bucket, s3_multipart_threshold_mib=5, s3_part_size_mib=5
        )
        plan = plan_for(tmp_path, video_bytes=os.urandom(12 * MIB))
        result = publish_version(
            target_for(settings), plan.uploads, plan.manifest, plan.manifest_key
        )
    finally:
        proxy.close()
    assert proxy.dropped == 1  # part 2's first attempt died on the wire
    assert not result.already_published
    video = plan.uploads[-1]
    body = s3.get_object(Bucket=bucket, Key=video.key)["Body"].read()
    assert hashlib.sha256(body).hexdigest() == plan.manifest.files[-1].sha256
    assert verify_version(target_for(s3_settings(s3_endpoint, bucket)), plan.manifest_key).ok


def test_a_failed_publish_leaves_no_manifest(
    s3: S3Client, s3_endpoint: str, bucket: str, tmp_path: Path
) -> None:
    plan = plan_for(tmp_path)
    plan.uploads[1].src.unlink()  # the SRT sidecar vanished from the asset store
    with pytest.raises(FileNotFoundError):
        publish_version(
            target_for(s3_settings(s3_endpoint, bucket)),
            plan.uploads,
            plan.manifest,
            plan.manifest_key,
        )
    assert plan.manifest_key not in keys_in(s3, bucket)


def test_stale_multipart_uploads_are_aborted(
    s3: S3Client, s3_endpoint: str, bucket: str, tmp_path: Path
) -> None:
    plan = plan_for(tmp_path)
    orphan_key = plan.manifest_key.replace("manifest.json", "16x9.mp4")
    s3.create_multipart_upload(Bucket=bucket, Key=orphan_key, ChecksumAlgorithm="SHA256")
    s3.create_multipart_upload(Bucket=bucket, Key="elsewhere/x.mp4")
    result = publish_version(
        target_for(s3_settings(s3_endpoint, bucket)),
        plan.uploads,
        plan.manifest,
        plan.manifest_key,
        stale_uploads_after=timedelta(0),
    )
    assert result.aborted_uploads == 1
    left = [u["Key"] for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])]
    assert left == ["elsewhere/x.mp4"]  # only our version's prefix is cleaned


def test_presigned_and_public_links(
    s3: S3Client, s3_endpoint: str, bucket: str, tmp_path: Path
) -> None:
    plan = plan_for(tmp_path)
    target = target_for(s3_settings(s3_endpoint, bucket, s3_link_expiry_s=600))
    publish_version(target, plan.uploads, plan.manifest, plan.manifest_key)
    video = plan.uploads[-1]
    link = target.link(video.key)
    assert "X-Amz-Expires=600" in link
    resp = httpx.get(link)  # no credentials: the signature is the permission
    assert resp.status_code == 200
    assert hashlib.sha256(resp.content).hexdigest() == plan.manifest.files[-1].sha256
    cdn = target_for(
        s3_settings(s3_endpoint, bucket, s3_public_url_template="https://cdn.example/{key}")
    )
    assert cdn.link(video.key) == f"https://cdn.example/{video.key}"


def test_verify_detects_a_tampered_file(
    s3: S3Client, s3_endpoint: str, bucket: str, tmp_path: Path
) -> None:
    plan = plan_for(tmp_path)
    target = target_for(s3_settings(s3_endpoint, bucket))
    publish_version(target, plan.uploads, plan.manifest, plan.manifest_key)
    assert verify_version(target, plan.manifest_key).ok
    s3.put_object(Bucket=bucket, Key=plan.uploads[0].key, Body=b"WEBVTT\n\ntampered\n")
    report = verify_version(target, plan.manifest_key)
    assert not report.ok and report.problems[0].startswith(plan.uploads[0].key)
    missing = verify_version(target, "published/nothing/here/v1/manifest.json")
    assert not missing.ok and "no manifest" in missing.problems[0]


def test_missing_bucket_fails_fast_and_clearly(s3_endpoint: str, tmp_path: Path) -> None:
    plan = plan_for(tmp_path)
    target = target_for(s3_settings(s3_endpoint, "reel-no-such-bucket"))
    with pytest.raises(PermanentPublishError, match=r"s3://reel-no-such-bucket/published/.*"):
        publish_version(target, plan.uploads, plan.manifest, plan.manifest_key)


def test_access_denied_is_clear_and_leaks_no_secret(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    with locked_s3(tmp_path) as locked:
        caplog.set_level(logging.DEBUG)  # botocore's debug logs included: the worst case
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", locked.access_key)  # the standard chain
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", locked.secret_key)
        target = target_for(s3_settings(locked.endpoint, locked.bucket))
        plan = plan_for(tmp_path)
        with pytest.raises(PermanentPublishError) as info:
            publish_version(target, plan.uploads, plan.manifest, plan.manifest_key)
    message = str(info.value)
    assert "AccessDenied" in message and f"s3://{locked.bucket}/published/" in message
    assert locked.secret_key not in message
    assert locked.secret_key not in caplog.text


# --------------------------------------------------------------------------- local default


def test_local_target_mirrors_the_layout_with_the_same_rules(tmp_path: Path) -> None:
    target = LocalTarget(tmp_path / "bucket")
    plan = plan_for(tmp_path / "a")
    first = publish_version(target, plan.uploads, plan.manifest, plan.manifest_key)
    again = publish_version(target, plan.uploads, plan.manifest, plan.manifest_key)
    assert (first.already_published, again.already_published) == (False, True)
    for upload in plan.uploads:
        assert (tmp_path / "bucket" / upload.key).read_bytes() == upload.src.read_bytes()
    assert verify_version(target, plan.manifest_key).ok
    other = plan_for(tmp_path / "b", video_bytes=b"other")
    with pytest.raises(ImmutableVersionError):
        publish_version(target, other.uploads, other.manifest, other.manifest_key)


def test_target_for_settings(tmp_path: Path, s3_endpoint: str) -> None:
    assert isinstance(target_for(Settings(data_dir=tmp_path)), LocalTarget)
    s3t = target_for(Settings(data_dir=tmp_path, s3_bucket="b", s3_endpoint_url=s3_endpoint))
    assert isinstance(s3t, S3Target) and s3t.bucket == "b"


def test_drafts_are_staged_outside_the_published_prefix(
    s3: S3Client, s3_endpoint: str, bucket: str, tmp_path: Path
) -> None:
    settings = s3_settings(s3_endpoint, "reel-nowhere", s3_staging_bucket=bucket)
    staging = staging_target_for(settings)
    assert staging is not None and staging.bucket == bucket
    files = make_cut(tmp_path, AspectRatio.PORTRAIT, b"draft pixels")
    brief = Brief.model_validate(brief_data(campaign="spring"))
    links = stage_draft(
        staging,
        prefix="staging",
        brief=brief,
        flow_run_id="run-7",
        ratio=AspectRatio.PORTRAIT,
        files=[(files.video, ".mp4", "video/mp4"), (files.captions, ".vtt", "text/vtt")],
    )
    root = "staging/aurora-coffee/spring/test-brief/run-7"
    assert keys_in(s3, bucket) == [f"{root}/9x16.mp4", f"{root}/9x16.vtt"]
    assert httpx.get(links[0]).content == b"draft pixels"
    head = s3.head_object(Bucket=bucket, Key=f"{root}/9x16.mp4")
    assert head["CacheControl"] == "private, no-cache"
    assert staging_target_for(Settings()) is None  # local: approvers open the asset store
