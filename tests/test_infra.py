"""The production deployment files point at code that exists, under the names clients use."""

from __future__ import annotations

import importlib
import json
from typing import Any

import yaml

from flows.produce_video import DEPLOYMENT_NAME, FLOW_NAME
from flows.render_shots import FLOW_NAME as RENDER_FLOW
from reelfactory.orchestration import CAMPAIGN_DEPLOYMENT, DEPLOYMENT
from reelfactory.settings import PROJECT_ROOT

INFRA = PROJECT_ROOT / "infra"


def deployed(deployment: dict[str, Any]) -> str:
    """``flow/deployment`` of a prefect.yaml entry, with its entrypoint imported for real."""
    path, attr = deployment["entrypoint"].split(":")
    assert (PROJECT_ROOT / path).is_file()
    module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
    return f"{getattr(module, attr).name}/{deployment['name']}"


def test_prefect_yaml_deploys_the_flow_clients_start_by_name() -> None:
    spec = yaml.safe_load((INFRA / "prefect.yaml").read_text())
    produce, render, campaign = spec["deployments"]
    assert deployed(produce) == DEPLOYMENT == f"{FLOW_NAME}/{DEPLOYMENT_NAME}"
    assert produce["work_pool"]["name"] == "cpu"
    # The render pool: what REEL_RENDER_DEPLOYMENT names in production.
    assert deployed(render) == f"{RENDER_FLOW}/gpu"
    assert render["work_pool"]["name"] == "gpu"
    # Campaigns: the name `reel campaign run` and `reel campaign schedule` address.
    assert deployed(campaign) == CAMPAIGN_DEPLOYMENT
    assert campaign["schedules"] is None  # redeploying keeps the campaigns' own schedules


def test_compose_wires_the_worker_to_the_server_and_postgres() -> None:
    compose = yaml.safe_load((INFRA / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "prefect-server", "worker"}
    worker_env = services["worker"]["environment"]
    assert worker_env["PREFECT_API_URL"] == "http://prefect-server:4200/api"
    assert worker_env["REEL_DB_URL"].startswith("postgresql+psycopg://")
    assert services["worker"]["build"]["dockerfile"] == "infra/Dockerfile"
    assert (INFRA / "Dockerfile").is_file()


def test_publisher_policy_grants_only_what_publishing_uses() -> None:
    policy = json.loads((INFRA / "s3-publisher-policy.json").read_text())
    actions = {a for s in policy["Statement"] for a in s["Action"]}
    assert "s3:PutObject" in actions and "s3:AbortMultipartUpload" in actions
    assert not {a for a in actions if a.endswith("*") or "Delete" in a or "Policy" in a}
    objects = [s for s in policy["Statement"] if "s3:PutObject" in s["Action"]]
    assert [s["Resource"] for s in objects] == ["arn:aws:s3:::REEL_S3_BUCKET/published/*"]
