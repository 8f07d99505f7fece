"""Brand sign-off rules on the real lane: N distinct approvals, a webhook when a run starts
waiting, expiry that publishes nothing, and the `reel approvals` / `reel approve` commands
that resume through the same Prefect API as the UI."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from uuid import UUID

import pytest
from mypy_boto3_s3 import S3Client
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import StateType
from typer.testing import CliRunner

from flows.approval_sweep import approval_sweep
from reelfactory import db
from reelfactory import orchestration as orch
from reelfactory.cli import app
from reelfactory.models import Brief, RunOutcome
from tests.conftest import brief_data, keys_in
from tests.e2e.conftest import (
    EXPIRING_KIT,
    SUSPEND_EXPIRING_KIT,
    SUSPENDING_KIT,
    TWO_APPROVERS_KIT,
    Lane,
    Webhook,
    run_artifacts,
)

pytestmark = pytest.mark.e2e

MAYA = "maya.chen@aurora-coffee.example"
LI = "li.okafor@aurora-coffee.example"
RUN_TIMEOUT_S = 240


def audit(lane: Lane, run_id: str) -> list[tuple[str, str | None, bool]]:
    with db.session_for(lane.settings.db_url) as session:
        return [
            (r.approver, r.decision, r.accepted)
            for r in db.decisions_for_run(session=session, flow_run_id=run_id)
        ]


def pause_description(run_id: str) -> str:
    """The markdown beside the form the run is paused on, as the Prefect UI shows it."""
    from prefect.input.run_input import keyset_from_paused_state

    state = orch.read_run(run_id).state
    assert state is not None
    with get_client(sync_client=True) as client:
        value = client.read_flow_run_input(
            flow_run_id=UUID(run_id), key=keyset_from_paused_state(state)["description"]
        )
    return str(json.loads(value))


def run_processes(run_id: str) -> list[int]:
    """PIDs of processes executing ``run_id`` (the runner starts each with its id in the
    environment)."""
    needle = f"PREFECT__FLOW_RUN_ID={run_id}".encode()
    found = []
    for env in Path("/proc").glob("[0-9]*/environ"):
        try:
            if needle in env.read_bytes().split(b"\0"):
                found.append(int(env.parent.name))
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return found


def wait_for_exit(run_id: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while run_processes(run_id):
        assert time.monotonic() < deadline, f"the process of {run_id} did not exit"
        time.sleep(0.5)


def cli(lane: Lane, *args: str) -> tuple[int, str]:
    runner = CliRunner(env={"PREFECT_API_URL": lane.api_url, "REEL_DB_URL": lane.settings.db_url})
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout


def test_two_distinct_approvers_must_approve(lane: Lane, s3: S3Client, webhook: Webhook) -> None:
    brief = Brief.model_validate(brief_data(id="e2e-two-approvals", brand=TWO_APPROVERS_KIT))
    run_id = orch.submit(brief)
    w = orch.wait_for(run_id, orch.is_paused, timeout_s=RUN_TIMEOUT_S)
    assert orch.pause_key(w) == "approval-1", w.message

    [posted] = [b for b in webhook.received if b["flow_run_id"] == run_id]
    assert posted["event"] == "reelfactory.run.waiting" and posted["step"] == "approval"
    assert (posted["brand"], posted["brief_id"]) == (TWO_APPROVERS_KIT, "e2e-two-approvals")
    assert posted["required_approvals"] == 2

    # Input the form's schema does not allow (prefect#12279) is refused by the server before
    # the flow sees it: the run keeps waiting on the same pause, nothing is audited.
    with pytest.raises(RuntimeError, match=r"Cannot resume this run: .*'maybe'"):
        orch.resume(run_id, approver=MAYA, decision="maybe")
    assert orch.pause_key(orch.Watched(orch.read_run(run_id))) == "approval-1"
    assert audit(lane, run_id) == []

    code, out = cli(lane, "approvals", "--json")
    assert code == 0
    [listed] = [json.loads(line) for line in out.splitlines() if run_id in line]
    assert (listed["waiting_for"], listed["pause"]) == ("approval", "approval-1")

    code, out = cli(lane, "approve", run_id, "--as", MAYA, "--notes", "looks good")
    assert code == 0, out
    assert json.loads(out)["waiting_for"] == "approval-2"  # one of two: still waiting
    prefix = f"published/{TWO_APPROVERS_KIT}/adhoc/e2e-two-approvals/"
    assert keys_in(s3, lane.bucket, prefix) == []

    code, out = cli(lane, "approve", run_id, "--as", MAYA)  # the same approver again
    assert code == 3
    assert "has already approved; 1 more approval(s) needed" in json.loads(out)["refused"]

    code, out = cli(lane, "approve", run_id, "--as", LI)
    assert code == 0, out
    assert json.loads(out)["state"] == "Completed"
    assert keys_in(s3, lane.bucket, prefix)
    # The published manifest names both approvers, in the order they signed off.
    [manifest_key] = [k for k in keys_in(s3, lane.bucket, prefix) if k.endswith("manifest.json")]
    manifest = json.loads(s3.get_object(Bucket=lane.bucket, Key=manifest_key)["Body"].read())
    assert manifest["approval"]["approvers"] == [MAYA, LI]
    assert manifest["approval"]["approver"] == LI
    assert audit(lane, run_id) == [
        (MAYA, "approve", True),
        (MAYA, None, False),  # refused attempts record no decision
        (LI, "approve", True),
    ]
    # The webhook heard of every wait for a new approval, not of re-asks after a refusal.
    assert [b["step"] for b in webhook.received if b["flow_run_id"] == run_id] == [
        "approval",
        "approval",
    ]


def test_approve_refuses_a_run_that_is_not_waiting_for_it(lane: Lane) -> None:
    code, out = cli(lane, "approve", "not-a-run", "--as", MAYA)
    assert code == 2
    message = "Sunrise Blend boosts metabolism, every morning"
    brief = Brief.model_validate(brief_data(id="e2e-cli-review", message=message))
    run_id = orch.submit(brief)
    w = orch.wait_for(run_id, orch.is_paused, timeout_s=RUN_TIMEOUT_S)
    assert orch.is_review(w)
    code, _ = cli(lane, "approve", run_id, "--as", MAYA)
    assert code == 2  # waits for a moderation review: `reel review`, not `reel approve`
    code, out = cli(lane, "review", run_id, "--as", MAYA, "--block", "--notes", "no claims")
    assert code == 0, out
    assert json.loads(out)["state"] == "Blocked"


def test_an_expired_approval_publishes_nothing(lane: Lane, s3: S3Client) -> None:
    """The kit waits 3 s; its webhook is down, which must not fail the run either. Prefect
    fails a run whose pause timed out; the audit row and an artifact say why."""
    brief = Brief.model_validate(brief_data(id="e2e-expiry", brand=EXPIRING_KIT))
    run_id = orch.submit(brief)
    final = orch.wait_for(run_id, orch.is_final, timeout_s=RUN_TIMEOUT_S)
    assert final.state_type is StateType.FAILED
    assert "never resumed" in final.message
    assert keys_in(s3, lane.bucket, f"published/{EXPIRING_KIT}/") == []
    with db.session_for(lane.settings.db_url) as session:
        [row] = db.decisions_for_run(session=session, flow_run_id=run_id)
    assert (row.step, row.accepted) == ("approval", False)
    assert row.reason == "expired: no approval decision within 3 s; nothing was published"
    assert "No approval decision within 3 s" in run_artifacts(run_id)["expired-e2e-expiry"]


def test_an_expired_suspended_wait_is_audited_by_the_sweep(lane: Lane, s3: S3Client) -> None:
    """Suspended, the run has no process when its 3 s run out: Prefect fails it and nothing
    of ours writes the audit. `reel sweep-expired` (the approval-sweep flow's work) does,
    once; a wait the run audited itself is left alone."""
    brief = Brief.model_validate(brief_data(id="e2e-suspend-expiry", brand=SUSPEND_EXPIRING_KIT))
    run_id = orch.submit(brief)
    final = orch.wait_for(run_id, orch.is_final, timeout_s=RUN_TIMEOUT_S)
    assert final.state_type is StateType.FAILED and "never resumed" in final.message
    assert audit(lane, run_id) == []  # no process was left to write it
    assert keys_in(s3, lane.bucket, f"published/{SUSPEND_EXPIRING_KIT}/") == []

    # The approval-sweep flow, run here with the lane's settings (as its deployment would be).
    with pytest.MonkeyPatch.context() as mp:
        for key, value in lane.env.items():
            mp.setenv(key, value)
        assert run_id in approval_sweep(grace_s=0)
    with db.session_for(lane.settings.db_url) as session:
        [row] = db.decisions_for_run(session=session, flow_run_id=run_id)
    assert (row.step, row.accepted, row.approver) == ("approval", False, "")
    assert row.reason == "expired: no approval decision within 3 s; nothing was published"
    assert "No approval decision within 3 s" in run_artifacts(run_id)["expired-e2e-suspend-expiry"]

    code, out = cli(lane, "sweep-expired", "--grace-s", "0", "--json")
    assert code == 0 and run_id not in out, out  # audited once
    code, out = cli(lane, "sweep-expired", "--grace-s", "0")
    assert code == 0 and run_id not in out
    with db.session_for(lane.settings.db_url) as session:
        assert len(db.decisions_for_run(session=session, flow_run_id=run_id)) == 1


def test_a_revision_rerenders_only_the_changed_shot(lane: Lane, s3: S3Client) -> None:
    """Changes to 1 of 6 shots: exactly one new clip, a v2 draft beside v1, then approval."""
    brief = Brief.model_validate(
        brief_data(
            id="e2e-revision",
            format="training-explainer-60",
            duration_s=60,
            steps=[
                "Rinse the paper filter",
                "Grind 18 g of Sunrise Blend",
                "Bloom with 40 g of water",
                "Pour slowly to 300 g",
            ],
        )
    )
    clips = lane.settings.assets_dir / "shots"
    run_id = orch.submit(brief)
    w = orch.wait_for(run_id, orch.is_paused, timeout_s=RUN_TIMEOUT_S)
    assert orch.pause_key(w) == "approval-1", w.message
    before = set(clips.glob("*.mp4"))
    assert len(before) >= 6

    code, out = cli(
        lane, "approve", run_id, "--as", MAYA, "--changes", "3: a close-up of the scale"
    )
    assert code == 0, out
    assert json.loads(out)["waiting_for"] == "approval-2"
    assert len(set(clips.glob("*.mp4")) - before) == 1  # one shot re-rendered, five reused
    # The approver sees what both versions' renders cost and what the shot cache saved.
    described = pause_description(run_id)
    cost = re.search(r"(\d+) shots rendered: .*; (\d+) reused from the shot cache", described)
    assert "## Cost so far" in described and cost, described
    assert int(cost[1]) + int(cost[2]) == 12 and int(cost[2]) >= 5

    staging = f"staging/aurora-coffee/adhoc/e2e-revision/{run_id}/"
    assert [k.removeprefix(staging) for k in keys_in(s3, lane.bucket, staging)] == [
        "16x9.mp4",
        "16x9.vtt",
        "v2/16x9.mp4",
        "v2/16x9.vtt",
    ]
    links = {k: v for k, v in run_artifacts(run_id).items() if k.startswith("preview-")}
    assert sorted(links) == ["preview-e2e-revision-16x9-v1", "preview-e2e-revision-16x9-v2"]
    assert f"{run_id}/v2/16x9.mp4" in links["preview-e2e-revision-16x9-v2"]  # presigned
    code, out = cli(lane, "approve", run_id, "--as", MAYA)
    assert code == 0 and json.loads(out)["state"] == "Completed", out
    with db.session_for(lane.settings.db_url) as session:
        rows = db.decisions_for_run(session=session, flow_run_id=run_id)
    assert [(r.version, r.decision, r.accepted, r.changes) for r in rows] == [
        (1, "changes", True, '{"3": "a close-up of the scale"}'),
        (2, "approve", True, ""),
    ]
    outcome = orch.read_run(run_id).state.result()  # type: ignore[union-attr]
    assert isinstance(outcome, RunOutcome) and outcome.cost is not None
    assert outcome.cost.renders + outcome.cost.reused == 12 and outcome.cost.cpu_s > 0
    assert outcome.cost.saved_cpu_s > 0  # the five reused shots once took CPU time


def test_a_suspended_run_survives_a_restart_of_its_worker(lane: Lane, s3: S3Client) -> None:
    """The kit waits suspended: the run's process exits, the serving process is stopped and
    started again, and the approval resumes the run from the top on the new one. Nothing is
    rendered twice and no decision is recorded twice."""
    brief = Brief.model_validate(brief_data(id="e2e-suspended", brand=SUSPENDING_KIT))
    clips = lane.settings.assets_dir / "shots"
    run_id = orch.submit(brief)
    w = orch.wait_for(run_id, orch.is_paused, timeout_s=RUN_TIMEOUT_S)
    assert (w.state_name, orch.pause_key(w)) == ("Suspended", "approval-1"), w.message
    rendered = {p: p.stat().st_mtime_ns for p in clips.glob("*.mp4")}

    # Suspending ends the run's process. Wait for it to be gone: a runner that stops while
    # it still tracks a run's process cancels that run.
    wait_for_exit(run_id, timeout_s=60)
    lane.served.stop()  # the worker goes away; the run holds no process
    assert orch.Watched(orch.read_run(run_id)).state_name == "Suspended"
    lane.served.start()

    # A refused answer first: the resumed run replays it and suspends again on approval-2.
    code, out = cli(lane, "approve", run_id, "--as", "someone.else@example.com")
    assert code == 3, out
    assert json.loads(out)["waiting_for"] == "approval-2"
    code, out = cli(lane, "approve", run_id, "--as", MAYA, "--notes", "after the restart")
    assert code == 0, out
    assert json.loads(out)["state"] == "Completed"

    assert keys_in(s3, lane.bucket, f"published/{SUSPENDING_KIT}/adhoc/e2e-suspended/")
    # No clip was written again: every shot was rendered once, before the suspension.
    assert {p: p.stat().st_mtime_ns for p in clips.glob("*.mp4")} == rendered
    outcome = orch.read_run(run_id).state.result()  # type: ignore[union-attr]
    assert isinstance(outcome, RunOutcome) and outcome.cost is not None
    assert (outcome.cost.renders, outcome.cost.reused) == (3, 0)  # the first run's renders
    assert audit(lane, run_id) == [
        ("someone.else@example.com", None, False),
        (MAYA, "approve", True),
    ]
