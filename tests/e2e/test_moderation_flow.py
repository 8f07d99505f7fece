"""Moderation gates the real lane: a blocked brief never renders; an unsure brief or an
unsure frame pauses the run for a moderation reviewer through the Prefect API."""

from __future__ import annotations

import pytest
from mypy_boto3_s3 import S3Client
from prefect.client.schemas.objects import StateType

from reelfactory import db
from reelfactory import orchestration as orch
from reelfactory.models import Brief
from tests.conftest import brief_data, keys_in
from tests.e2e.conftest import FRAME_LABEL, STRICT_KIT, Lane, run_artifacts

pytestmark = pytest.mark.e2e

REVIEWER = "maya.chen@aurora-coffee.example"
RUN_TIMEOUT_S = 240


def artifact_markdown(run_id: str, key: str) -> str:
    return run_artifacts(run_id)[key]


def task_names(run_id: str) -> list[str]:
    return [t.name.rsplit("-", 1)[0] for t in orch.finished_tasks(run_id)]


def audit(lane: Lane, run_id: str) -> list[tuple[str, str, str | None, bool]]:
    with db.session_for(lane.settings.db_url) as session:
        return [
            (r.step, r.approver, r.decision, r.accepted)
            for r in db.decisions_for_run(session=session, flow_run_id=run_id)
        ]


def test_blocked_brief_never_reaches_rendering(lane: Lane, s3: S3Client) -> None:
    brief = Brief.model_validate(
        brief_data(id="e2e-blocked", message="A n u d e model sips Sunrise Blend")
    )
    run_id = orch.submit(brief)
    final = orch.wait_for(run_id, orch.is_final, timeout_s=RUN_TIMEOUT_S)
    assert (final.state_type, final.state_name) == (StateType.FAILED, "Blocked")
    assert "brief.message" in final.message and "sexual" in final.message
    names = task_names(run_id)
    assert "plan-brief" in names
    assert not any(n.startswith(("render-shot", "assemble-cut", "stage-cut")) for n in names)
    report = artifact_markdown(run_id, "moderation-e2e-blocked-input")
    assert "## Input moderation: BLOCK" in report and "spaced letters" in report
    assert keys_in(s3, lane.bucket, "staging/aurora-coffee/adhoc/e2e-blocked/") == []


def test_unsure_brief_waits_for_a_reviewer_before_rendering(lane: Lane) -> None:
    brief = Brief.model_validate(
        brief_data(id="e2e-input-review", message="Sunrise Blend boosts metabolism, every morning")
    )
    run_id = orch.submit(brief)
    w = orch.wait_for(run_id, orch.is_paused, timeout_s=RUN_TIMEOUT_S)
    assert orch.is_review(w) and orch.pause_key(w) == "review-input-1"
    assert not any(n.startswith("render-shot") for n in task_names(run_id))
    report = artifact_markdown(run_id, "moderation-e2e-input-review-input")
    assert "REVIEW" in report and "boosts metabolism" in report

    # Someone not on the kit cannot clear it; the run asks again.
    orch.resume_review(run_id, reviewer="intruder@example.com", decision="allow")
    w = orch.wait_for(run_id, lambda x: orch.paused_again(x, "review-input-1"), timeout_s=60)
    assert orch.pause_key(w) == "review-input-2"

    orch.resume_review(run_id, reviewer=REVIEWER, decision="block", notes="needs legal sign-off")
    final = orch.wait_for(run_id, orch.is_final, timeout_s=60)
    assert final.state_name == "Blocked"
    assert f"blocked in review by {REVIEWER}: needs legal sign-off" in final.message
    assert not any(n.startswith("render-shot") for n in task_names(run_id))
    assert audit(lane, run_id) == [
        ("review:input", "intruder@example.com", None, False),
        ("review:input", REVIEWER, "block", True),
    ]


def test_flagged_frame_sends_the_run_to_review_then_approval(lane: Lane, s3: S3Client) -> None:
    brief = Brief.model_validate(brief_data(id="e2e-frame-review", brand=STRICT_KIT))
    run_id = orch.submit(brief)
    w = orch.wait_for(run_id, orch.is_paused, timeout_s=RUN_TIMEOUT_S)
    assert orch.pause_key(w) == "review-output-1", w.message
    names = task_names(run_id)
    assert names.count("render-shot") == 3 and names.count("moderate-frames") == 4
    report = artifact_markdown(run_id, "moderation-e2e-frame-review-output")
    assert "## Output moderation (version 1): REVIEW" in report
    assert f"{FRAME_LABEL}; in " in report and "weapons" in report and "0.05" in report
    # Nothing is staged for approvers while the frames are under review.
    assert keys_in(s3, lane.bucket, f"staging/{STRICT_KIT}/adhoc/e2e-frame-review/") == []

    orch.resume_review(run_id, reviewer=REVIEWER, decision="allow", notes="a coffee scoop")
    w = orch.wait_for(run_id, lambda x: orch.paused_again(x, "review-output-1"), timeout_s=120)
    assert orch.pause_key(w) == "approval-1", w.message
    staged = keys_in(s3, lane.bucket, f"staging/{STRICT_KIT}/adhoc/e2e-frame-review/{run_id}/")
    assert [k.rsplit("/", 1)[1] for k in staged] == ["16x9.mp4", "16x9.vtt"]

    orch.resume(run_id, approver=REVIEWER, decision="reject", notes="not this week")
    final = orch.wait_for(run_id, orch.is_final, timeout_s=60)
    assert final.state_name == "Rejected"
    assert audit(lane, run_id) == [
        ("review:output", REVIEWER, "allow", True),
        ("approval", REVIEWER, "reject", True),
    ]
