"""End to end on real parts: submit by deployment name, pause for approval, resume through
the Prefect API (as the UI does), publish to S3 over HTTP, check the bytes that landed."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from uuid import UUID

import opentimelineio as otio
import pytest
import webvtt
import yaml
from mypy_boto3_s3 import S3Client
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
from prefect.client.schemas.objects import Artifact

from reelfactory import db
from reelfactory import orchestration as orch
from reelfactory.brand import load_brand_kit
from reelfactory.edit.timeline import overhead_frames
from reelfactory.models import AspectRatio, Brief
from reelfactory.provenance import trust_anchors, verify_video
from reelfactory.settings import PROJECT_ROOT
from tests.conftest import TEST_SHORT_EDGE, brief_data, keys_in
from tests.e2e.conftest import Lane
from tests.media_checks import audio_loudness, moov_before_mdat, probe

pytestmark = pytest.mark.e2e

APPROVER = "maya.chen@aurora-coffee.example"
RUN_TIMEOUT_S = 240


def submit_and_pause(brief: Brief) -> tuple[str, str | None]:
    run_id = orch.submit(brief)
    w = orch.wait_for(run_id, orch.is_paused, timeout_s=RUN_TIMEOUT_S)
    assert orch.is_paused(w), f"run ended before approval: {w.state_name} {w.message}"
    return run_id, orch.pause_key(w)


def shot_list_artifacts(run_id: str) -> list[Artifact]:
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[UUID(run_id)]))
        )
    return [a for a in found if a.key and a.key.startswith("shot-list-")]


def audit(lane: Lane, run_id: str) -> list[tuple[str, str | None, bool]]:
    with db.session_for(lane.settings.db_url) as session:
        return [
            (r.approver, r.decision, r.accepted)
            for r in db.decisions_for_run(session=session, flow_run_id=run_id)
        ]


def prefix_of(brief: Brief) -> str:
    return f"published/{brief.brand}/{brief.campaign}/{brief.brief_id}/v1/"


def test_approved_brief_is_published_to_s3(lane: Lane, s3: S3Client, tmp_path: Path) -> None:
    brief = Brief.model_validate(brief_data(id="e2e-approved"))
    run_id, _ = submit_and_pause(brief)
    assert keys_in(s3, lane.bucket, prefix_of(brief)) == []  # nothing before approval
    staged = keys_in(s3, lane.bucket, f"staging/aurora-coffee/adhoc/e2e-approved/{run_id}/")
    assert [k.rsplit("/", 1)[1] for k in staged] == ["16x9.mp4", "16x9.vtt"]  # for preview
    [table] = shot_list_artifacts(run_id)
    assert table.key == "shot-list-e2e-approved" and table.type == "table"
    rows = json.loads(str(table.data))
    assert [r["name"] for r in rows] == ["hook", "product", "cta"]
    kit = load_brand_kit(lane.settings.brand_kits_dir / brief.brand)
    edit = overhead_frames(kit.edit, len(rows), 24)  # cards, less what crossfades overlap
    assert sum(r["frames"] for r in rows) + edit == brief.duration_s * 24

    orch.resume(run_id, approver=APPROVER, decision="approve", notes="on brand")
    final = orch.wait_for(run_id, orch.is_final, timeout_s=RUN_TIMEOUT_S)
    assert final.state_name == "Completed", final.message

    key = f"{prefix_of(brief)}16x9.mp4"
    assert keys_in(s3, lane.bucket, prefix_of(brief)) == [
        key.replace(".mp4", ".jpg"),
        key,
        key.replace(".mp4", ".otio"),
        key.replace(".mp4", ".srt"),
        key.replace(".mp4", ".vtt"),
        f"{prefix_of(brief)}manifest.json",
    ]
    manifest = json.loads(
        s3.get_object(Bucket=lane.bucket, Key=f"{prefix_of(brief)}manifest.json")["Body"].read()
    )
    assert manifest["approval"]["approver"] == APPROVER
    assert manifest["approval"]["flow_run_id"] == run_id
    assert {f["key"] for f in manifest["files"]} == {key} | {
        key.replace(".mp4", suffix) for suffix in (".vtt", ".srt", ".jpg", ".otio")
    }
    assert manifest["c2pa"] == "signed"
    body = s3.get_object(Bucket=lane.bucket, Key=key)
    video = tmp_path / "cut.mp4"
    video.write_bytes(body["Body"].read())
    digest = hashlib.sha256(video.read_bytes()).hexdigest()
    assert body["Metadata"]["sha256"] == digest
    assert body["Metadata"]["approved-by"] == APPROVER

    p = probe(video)
    assert (p.width, p.height) == AspectRatio.LANDSCAPE.size(TEST_SHORT_EDGE)
    assert abs(p.frames - brief.duration_s * 24) <= 1
    assert (p.video_codec, p.audio_codec) == ("h264", "aac")
    assert moov_before_mdat(video)
    assert audio_loudness(video) == pytest.approx(kit.edit.loudness_lufs, abs=1.0)
    # Content Credentials: signed after approval, naming the approver; trusted here.
    credentials = verify_video(video, trust_anchors_pem=trust_anchors(lane.settings))
    assert credentials.state == "trusted", credentials.errors
    assert credentials.production is not None
    assert credentials.production["approval"]["approver"] == APPROVER
    assert credentials.production["brief_id"] == brief.brief_id
    assert credentials.production["approval"]["approvers"] == [APPROVER]
    # The run's cost record, for cost and ROI reports: 3 animatic shots on CPU, priced.
    with db.session_for(lane.settings.db_url) as session:
        [record] = [v for v in db.videos(session=session) if v.flow_run_id == run_id]
    assert (record.status, record.versions, record.brand) == ("published", 1, "aurora-coffee")
    assert record.cost.renders + record.cost.reused == 3 and record.cost.cpu_s > 0
    # Assembly and moderation seconds come from the run's own task runs, priced as CPU time.
    assert record.cost.assembly_s > 0 and record.cost.moderation_s > 0
    assert record.priced == pytest.approx(record.cost.cpu_total_s * 0.001, abs=1e-3)
    assert record.decided_at is not None and record.submitted_at < record.decided_at
    edl = s3.get_object(Bucket=lane.bucket, Key=key.replace(".mp4", ".otio"))["Body"].read()
    clips = list(otio.adapters.read_from_string(edl.decode(), "otio_json").find_clips())
    assert [c.name for c in clips] == ["intro", "shot 1", "shot 2", "shot 3", "end-card"]

    vtt = s3.get_object(Bucket=lane.bucket, Key=key.replace(".mp4", ".vtt"))["Body"].read().decode()
    cues = webvtt.read_buffer(io.StringIO(vtt))
    assert [c.text for c in cues.captions] == [brief.message, brief.title, brief.call_to_action]

    assert audit(lane, run_id) == [(APPROVER, "approve", True)]
    with db.session_for(lane.settings.db_url) as session:
        [pub] = db.publications_for_run(session=session, flow_run_id=run_id)
    assert (pub.bucket, pub.key, pub.sha256, pub.size) == (
        lane.bucket,
        key,
        digest,
        video.stat().st_size,
    )


def test_rejected_run_publishes_nothing(lane: Lane, s3: S3Client) -> None:
    brief = Brief.model_validate(brief_data(id="e2e-rejected"))
    run_id, _ = submit_and_pause(brief)
    orch.resume(run_id, approver=APPROVER, decision="reject", notes="logo too small")
    final = orch.wait_for(run_id, orch.is_final, timeout_s=RUN_TIMEOUT_S)
    assert final.state_name == "Rejected"
    assert "logo too small" in final.message
    assert keys_in(s3, lane.bucket, prefix_of(brief)) == []
    assert audit(lane, run_id) == [(APPROVER, "reject", True)]
    with db.session_for(lane.settings.db_url) as session:
        assert db.publications_for_run(session=session, flow_run_id=run_id) == []


def test_unlisted_approver_and_empty_resume_are_refused(lane: Lane, s3: S3Client) -> None:
    brief = Brief.model_validate(brief_data(id="e2e-refused"))
    run_id, key = submit_and_pause(brief)

    orch.resume(run_id, approver="intruder@evil.example", decision="approve")
    w = orch.wait_for(run_id, lambda x: orch.paused_again(x, key), timeout_s=60)
    assert orch.is_paused(w), w.state_name  # still waiting, not published
    key2 = orch.pause_key(w)

    # Prefect accepts a resume with no input and hands the flow the form's initial data.
    from uuid import UUID

    from prefect.flow_runs import resume_flow_run

    resume_flow_run(UUID(run_id))
    w = orch.wait_for(run_id, lambda x: orch.paused_again(x, key2), timeout_s=60)
    assert orch.is_paused(w), w.state_name
    assert keys_in(s3, lane.bucket, prefix_of(brief)) == []

    orch.resume(run_id, approver=APPROVER, decision="approve")
    final = orch.wait_for(run_id, orch.is_final, timeout_s=RUN_TIMEOUT_S)
    assert final.state_name == "Completed", final.message
    assert audit(lane, run_id) == [
        ("intruder@evil.example", None, False),
        ("", None, False),
        (APPROVER, "approve", True),
    ]
    assert len(keys_in(s3, lane.bucket, prefix_of(brief))) == 6  # mp4 vtt srt jpg otio, manifest


def test_cli_produce_publishes_every_aspect_ratio(lane: Lane, s3: S3Client, tmp_path: Path) -> None:
    """`reel produce` against a configured server: the same path the README's demo takes."""
    example = PROJECT_ROOT / "examples" / "briefs" / "kestrel-bikes-commute.yaml"
    data = yaml.safe_load(example.read_text())
    brief = Brief.model_validate(data)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "reelfactory",
            "produce",
            str(example),
            "--approve-as",
            "sam.rivera@kestrel-bikes.example",
        ],
        env={**os.environ, **lane.env},
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        cwd=PROJECT_ROOT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    # Progress: every finished task is reported once, with its time.
    shots = 3 * len(brief.aspect_ratios)
    assert result.stderr.count("render-shot-") == shots, result.stderr
    assert result.stderr.count("assemble-cut-") == len(brief.aspect_ratios)
    assert result.stderr.count("publish-version-") == 1
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["status"] == "published"
    assert out["uri"] == f"s3://{lane.bucket}/{prefix_of(brief)}9x16.mp4"
    assert out["manifest_key"] == f"{prefix_of(brief)}manifest.json"
    assert (out["width"], out["height"]) == AspectRatio.PORTRAIT.size(TEST_SHORT_EDGE)
    assert abs(out["duration_s"] - brief.duration_s) <= 1 / 24
    assert [c["aspect_ratio"] for c in out["cuts"]] == ["9:16", "16:9"]
    assert len(keys_in(s3, lane.bucket, prefix_of(brief))) == 11  # 5 per cut + manifest
    assert "flow run: http://127.0.0.1:" in result.stderr

    verify = subprocess.run(
        [sys.executable, "-m", "reelfactory", "verify-publication", out["manifest_key"]],
        env={**os.environ, **lane.env},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=PROJECT_ROOT,
    )
    assert verify.returncode == 0, verify.stderr
    checked = json.loads(verify.stdout.splitlines()[-1])
    assert checked["ok"] is True and checked["c2pa"] == "signed"  # hashes and credentials
