"""A campaign on the real lane: campaign-batch (served) runs each variant through the served
produce-video deployment, an approver signs each off, a failing variant fails alone, and a
re-run skips what was published."""

from __future__ import annotations

import json
import time
from uuid import UUID, uuid4

import pytest
from mypy_boto3_s3 import S3Client
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags
from prefect.client.schemas.objects import FlowRun
from prefect.deployments import run_deployment

from flows.campaign_batch import limit_name
from reelfactory import orchestration as orch
from reelfactory.campaign import Campaign, parse_campaign
from tests.conftest import keys_in
from tests.e2e.conftest import Lane, run_artifacts

pytestmark = pytest.mark.e2e

MAYA = "maya.chen@aurora-coffee.example"
CAMPAIGN_TIMEOUT_S = 420


def small_campaign() -> Campaign:
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
    lane: Lane, s3: S3Client
) -> None:
    campaign = small_campaign()
    first = run_campaign(campaign)
    assert first.state_name == "Completed with failures", first.message
    assert "1 of 3 variants failed: base/too-long/" in first.message
    assert summary(first.run.id, campaign) == {
        "sunrise": "published",
        "pour-over": "published",
        "too-long": "failed",
    }
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
