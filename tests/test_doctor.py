"""``reel doctor`` on a healthy and a broken configuration, against real services: a Prefect
server (harness), SQLite, and an S3 server on 127.0.0.1."""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reelfactory.db import init_db
from reelfactory.doctor import Check, diagnose
from reelfactory.settings import PROJECT_ROOT, Settings, settings_table


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


@pytest.fixture
def pools(prefect_api: str) -> str:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists

    with get_client(sync_client=True) as client, contextlib.suppress(ObjectAlreadyExists):
        client.create_work_pool(WorkPoolCreate(name="cpu", type="process"))
    return prefect_api


def test_healthy_configuration(
    settings: Settings, pools: str, s3_endpoint: str, bucket: str
) -> None:
    healthy = settings.model_copy(update={"s3_endpoint_url": s3_endpoint, "s3_bucket": bucket})
    init_db(healthy.db_url)
    checks = by_name(diagnose(healthy, api_url=pools))
    assert all(c.ok for c in checks.values()), [c.line() for c in checks.values()]
    assert checks["prefect api"].outcome == "ok"
    assert checks["database"].outcome == "ok"
    assert checks["s3"].outcome == "ok"
    assert checks["work pool cpu"].outcome == "ok"
    assert checks["brand kits and fonts"].outcome == "ok"
    assert checks["ffmpeg"].outcome == "ok"
    assert checks["gpu"].outcome == "skip"  # the animatic needs none


def test_broken_configuration_says_what_to_fix(
    settings: Settings, tmp_path: Path, pools: str, s3_endpoint: str
) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    empty_db = tmp_path / "empty.db"
    import sqlite3

    sqlite3.connect(empty_db).close()  # exists, never migrated
    broken = settings.model_copy(
        update={
            "db_url": f"sqlite:///{empty_db}",
            "data_dir": not_a_dir,
            "s3_endpoint_url": s3_endpoint,
            "s3_bucket": "no-such-bucket",
            "render_deployment": "render-shots/gpu",
            "gpu_concurrency_limit": "gpu-missing-0",
        }
    )
    checks = by_name(diagnose(broken, api_url=pools))
    assert "at migration none" in checks["database"].detail
    assert checks["asset store"].outcome == "fail"
    assert "not writable" in checks["asset store"].detail
    assert checks["s3"].outcome == "fail"
    assert "no-such-bucket" in checks["s3"].detail and "does not exist" in checks["s3"].detail
    assert checks["work pool gpu"].outcome == "fail"
    assert "reel infra init" in checks["work pool gpu"].detail
    assert checks["concurrency limit gpu-missing-0"].outcome == "fail"
    limit = checks["concurrency limit gpu-missing-0"].detail
    assert "reel infra init --gpu-limit gpu-missing-0" in limit

    dead = by_name(diagnose(settings, api_url="http://127.0.0.1:9/api"))
    assert dead["prefect api"].outcome == "fail"
    assert "unreachable" in dead["prefect api"].detail
    assert dead["work pools"].outcome == "skip"  # not asked of a server that is down


def test_s3_asset_store_and_the_result_storage_every_worker_shares(
    settings: Settings, tmp_path: Path, pools: str, s3_endpoint: str, bucket: str
) -> None:
    """Healthy once `reel infra init` made the block and the workers name it; before that,
    each problem is named with its fix."""
    from prefect.settings import PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK, temporary_settings
    from prefect_aws import S3Bucket

    from reelfactory import infra

    shared = settings.model_copy(
        update={"s3_endpoint_url": s3_endpoint, "asset_store": f"s3://{bucket}/wip"}
    )
    with temporary_settings(updates={PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK: None}):
        checks = by_name(diagnose(shared, api_url=pools))
    assert checks["asset store"].outcome == "ok", checks["asset store"].line()
    assert f"s3://{bucket}/wip" in checks["asset store"].detail
    assert checks["result storage"].outcome == "fail"
    assert "set it to s3-bucket/reel-results" in checks["result storage"].detail

    with temporary_settings(
        updates={PREFECT_RESULTS_DEFAULT_STORAGE_BLOCK: "s3-bucket/reel-results"}
    ):
        missing = by_name(diagnose(shared, api_url=pools))["result storage"]
        assert missing.outcome == "fail" and "reel infra init" in missing.detail
        spec = infra.result_storage_for(shared)
        assert spec is not None and spec.folder == "wip/prefect-results"
        steps = infra.init([], storage=spec)
        assert [(s.name, s.outcome) for s in steps if s.kind == "result storage"] == [
            ("reel-results", "create")
        ]
        try:
            checks = by_name(diagnose(shared, api_url=pools))
            assert checks["result storage"].outcome == "ok", checks["result storage"].line()
            again = infra.init([], storage=spec)
            assert {s.outcome for s in again if s.kind == "result storage"} == {"exists"}
            # The block works as Prefect's result storage: written through it, read back.
            block = S3Bucket.load("reel-results", _sync=True)  # type: ignore[call-arg]
            assert isinstance(block, S3Bucket)
            block.write_path("probe.json", b"{}", _sync=True)  # type: ignore[call-arg]
            assert block.read_path("probe.json", _sync=True) == b"{}"  # type: ignore[call-arg]
            other = infra.result_storage_for(
                shared.model_copy(update={"asset_store": f"s3://{bucket}/elsewhere"})
            )
            differs = infra.init([], storage=other)
            assert [s.outcome for s in differs if s.kind == "result storage"] == ["differs"]
            assert "prefect block delete s3-bucket/reel-results" in differs[-1].detail
        finally:
            S3Bucket.delete("reel-results", _sync=True)  # type: ignore[call-arg]

    no_bucket = shared.model_copy(update={"asset_store": "s3://no-such-bucket/wip"})
    check = by_name(diagnose(no_bucket, api_url=pools))["asset store"]
    assert check.outcome == "fail" and "create it or fix REEL_ASSET_STORE" in check.detail


def test_reel_doctor_exit_code_and_json(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from reelfactory.cli import app

    monkeypatch.setenv("REEL_DATA_DIR", str(tmp_path / "fresh"))
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    result = CliRunner().invoke(app, ["doctor", "--json"])
    assert result.exit_code == 1  # a fresh install has no database yet
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["ok"] is False
    assert {c["name"]: c["outcome"] for c in out["checks"]}["database"] == "fail"


def test_every_setting_is_documented_and_the_docs_match() -> None:
    table = settings_table()
    assert all(not line.endswith("|  |") for line in table.splitlines()), (
        "a setting lacks a description"
    )
    doc = (PROJECT_ROOT / "docs" / "deploy.md").read_text()
    found = re.search(r"<!-- settings:start -->\n(.*?)<!-- settings:end -->", doc, re.S)
    assert found, "docs/deploy.md lost its settings markers"
    assert found.group(1) == table, "docs/deploy.md is stale: python -m reelfactory.settings"
