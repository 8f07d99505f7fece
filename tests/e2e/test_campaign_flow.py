"""A campaign on the real lane: campaign-batch (served) runs each variant through the served
produce-video deployment, an approver signs each off, a failing variant fails alone, and a
re-run skips what was published."""

from __future__ import annotations

import json
import time
from pathlib import Path
from uuid import UUID, uuid4

import pytest
import yaml
from mypy_boto3_s3 import S3Client
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterDeploymentId,
    FlowRunFilterTags,
)
from prefect.client.schemas.objects import FlowRun
from prefect.deployments import run_deployment
from typer.testing import CliRunner

from flows.campaign_batch import limit_name
from reelfactory import orchestration as orch
from reelfactory.campaign import Campaign, parse_campaign
from reelfactory.cli import app
from tests.conftest import keys_in
from tests.e2e.conftest import Lane, run_artifacts

pytestmark = pytest.mark.e2e

MAYA = "maya.chen@aurora-coffee.example"
CAMPAIGN_TIMEOUT_S = 420


def small_campaign(**changes: object) -> Campaign:
    products = [
        ("sunrise", "Sunrise Blend is here", "Slow mornings taste better with Sunrise Blend."),
        ("pour-over", "Pour-over at home", "A great pour-over is patience and a steady hand."),
    ]
    return parse_campaign(
        {
            "id": f"e2e-{uuid4().hex[:8]}",
            "brand": "aurora-coffee",
            "base": {
                "audience": "Home brewers",
                "call_to_action": "Order at aurora.example",
                "duration_s": 6,
                "submitted_by": "jordan.pike@aurora-coffee.example",
            },
            "matrix": {
                "products": [
                    *({"id": p, "overrides": {"title": t, "message": m}} for p, t, m in products),
                    # Valid as a brief, but a 40 s teaser: planning refuses it in its run.
                    {
                        "id": "too-long",
                        "overrides": {
                            "title": "Too long",
                            "message": "Far too long.",
                            "duration_s": 40,
                        },
                    },
                ]
            },
            "concurrency": 2,
            **changes,
        }
    )


def campaign_runs(campaign: Campaign) -> list[FlowRun]:
    with get_client(sync_client=True) as client:
        return client.read_flow_runs(
            flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[f"campaign:{campaign.id}"]))
        )


def run_campaign(campaign: Campaign) -> orch.Watched:
    """Start campaign-batch by deployment and approve every variant that waits, until done."""
    run = run_deployment(
        "campaign-batch/campaign-batch",
        parameters={"campaign": campaign.model_dump(mode="json")},
        timeout=0,
    )
    run_id = str(run.id)  # type: ignore[union-attr]
    deadline = time.monotonic() + CAMPAIGN_TIMEOUT_S
    while time.monotonic() < deadline:
        watched = orch.Watched(orch.read_run(run_id))
        if orch.is_final(watched):
            return watched
        for waiting in orch.waiting_runs():
            if f"campaign:{campaign.id}" in waiting.tags:
                orch.resume(str(waiting.id), approver=MAYA, decision="approve")
        time.sleep(1)
    raise TimeoutError(f"campaign run {run_id} not finished after {CAMPAIGN_TIMEOUT_S} s")


def summary(run_id: UUID, campaign: Campaign) -> dict[str, str]:
    table = json.loads(run_artifacts(str(run_id))[f"campaign-{campaign.id}"])
    return {row["variant"].split("/")[1]: row["status"] for row in table}


def test_a_campaign_runs_each_variant_fails_one_alone_and_reruns_only_what_is_missing(
    lane: Lane, s3: S3Client, tmp_path: Path
) -> None:
    campaign = small_campaign()
    spec = tmp_path / "campaign.yaml"
    spec.write_text(
        yaml.safe_dump(campaign.model_dump(mode="json", by_alias=True, exclude_none=True))
    )
    # `reel campaign run` against the lane's server, approving each variant as it waits.
    runner = CliRunner(env={"PREFECT_API_URL": lane.api_url, **lane.env})
    result = runner.invoke(app, ["campaign", "run", str(spec), "--approve-as", MAYA])
    assert result.exit_code == 1, result.output  # not everything was published
    reported = json.loads(result.stdout)
    assert reported["state"] == "Completed with failures"
    first = orch.Watched(orch.read_run(reported["flow_run_id"]))
    assert "1 of 3 variants failed: base/too-long/" in first.message
    assert {row["variant"].split("/")[1]: row["status"] for row in reported["variants"]} == {
        "sunrise": "published",
        "pour-over": "published",
        "too-long": "failed",
    }
    assert summary(first.run.id, campaign) == {
        "sunrise": "published",
        "pour-over": "published",
        "too-long": "failed",
    }
    # Each published variant's cost comes from its run's cost record.
    assert all(r["CPU-s"] > 0 for r in reported["variants"] if r["status"] == "published")
    published = keys_in(s3, lane.bucket, f"published/aurora-coffee/{campaign.id}/")
    assert len([k for k in published if k.endswith(".mp4")]) == 2
    with get_client(sync_client=True) as client:  # the bound is a limit the UI can change
        assert client.read_global_concurrency_limit_by_name(limit_name(campaign)).limit == 2
    variant_runs = len(campaign_runs(campaign))
    assert variant_runs == 3

    again = run_campaign(campaign)
    assert summary(again.run.id, campaign) == {
        "sunrise": "skipped",
        "pour-over": "skipped",
        "too-long": "failed",
    }
    assert len(campaign_runs(campaign)) == variant_runs + 1  # only the failed one ran again


def test_a_campaign_over_its_budget_starts_nothing_and_says_why(lane: Lane) -> None:
    # (6 + 6 + 40) s x 0.5 CPU-s x 0.001 USD = 0.026 USD estimated, against a 0.001 budget.
    campaign = small_campaign(budget={"amount": 0.001, "currency": "USD"})
    final = run_campaign(campaign)
    assert final.state_name == "Over budget"
    assert final.message == (
        "nothing was started: estimated 0.03 USD (26 CPU-s for 3 videos, 52 s of output) "
        "exceeds the budget of 0.001 USD"
    )
    assert campaign_runs(campaign) == []


def test_a_campaign_schedule_is_created_updated_and_runs_the_campaign(
    lane: Lane, tmp_path: Path
) -> None:
    campaign = small_campaign()
    products = campaign.matrix.products or []
    # Only the variant planning refuses: each scheduled run ends in seconds, with failures.
    failing = campaign.model_copy(
        update={"matrix": campaign.matrix.model_copy(update={"products": products[-1:]})}
    )
    spec = tmp_path / "campaign.yaml"
    spec.write_text(
        yaml.safe_dump(failing.model_dump(mode="json", by_alias=True, exclude_none=True))
    )
    runner = CliRunner(env={"PREFECT_API_URL": lane.api_url, "REEL_DATA_DIR": str(tmp_path)})

    made = runner.invoke(app, ["campaign", "schedule", str(spec), "--cron", "0 6 * * 1"])
    assert made.exit_code == 0, made.output
    assert json.loads(made.stdout)["created"] is True
    # Scheduling again updates the same schedule: every minute, so a run comes soon.
    again = runner.invoke(app, ["campaign", "schedule", str(spec), "--cron", "* * * * *"])
    assert again.exit_code == 0 and json.loads(again.stdout)["created"] is False
    bad = runner.invoke(app, ["campaign", "schedule", str(spec), "--cron", "61 * * * *"])
    assert bad.exit_code == 2 and "61" in bad.output

    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(orch.CAMPAIGN_DEPLOYMENT)
        [schedule] = [
            s
            for s in client.read_deployment_schedules(deployment.id)
            if s.slug == f"campaign-{failing.id}"
        ]
        assert schedule.schedule.cron == "* * * * *" and schedule.active  # type: ignore[union-attr]
        assert schedule.parameters["campaign"]["id"] == failing.id
        try:
            deadline = time.monotonic() + 180
            finished: list[FlowRun] = []
            while not finished and time.monotonic() < deadline:
                runs = client.read_flow_runs(
                    flow_run_filter=FlowRunFilter(
                        deployment_id=FlowRunFilterDeploymentId(any_=[deployment.id])
                    )
                )
                finished = [
                    r
                    for r in runs
                    if r.parameters.get("campaign", {}).get("id") == failing.id
                    and r.state is not None
                    and r.state.is_final()
                ]
                time.sleep(2)
            assert finished, "no run came from the schedule within 180 s"
            assert "auto-scheduled" in finished[0].tags
            assert finished[0].state is not None
            assert finished[0].state.name == "Completed with failures"
        finally:  # paused, as from the UI's toggle: no more runs every minute
            client.update_deployment_schedule(deployment.id, schedule.id, active=False)
