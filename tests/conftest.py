"""Shared fixtures: temp settings, a real S3 server on 127.0.0.1, a real Prefect stack.

Heavy fixtures are session-scoped: a Prefect server takes ~16 s to start here.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from mypy_boto3_s3 import S3Client

from reelfactory.brand import load_brand_kit
from reelfactory.expand import Expander, expand
from reelfactory.formats import load_format
from reelfactory.models import BrandKit, Brief, ShotList
from reelfactory.render import clip_limits
from reelfactory.settings import PROJECT_ROOT, Settings

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

EXAMPLE_BRIEF = PROJECT_ROOT / "examples" / "briefs" / "aurora-coffee-launch.yaml"
TEST_SHORT_EDGE = 96  # small frames keep the lane fast; sizes are still checked exactly


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Every test starts from the defaults, whatever REEL_* the developer's shell exports
    or the developer's ``.env`` holds (Settings reads ``.env`` from the working directory)."""
    for key in [k for k in os.environ if k.startswith("REEL_")]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for one test; ``_isolated_settings`` keeps the caller's REEL_* out of it."""
    return Settings(data_dir=tmp_path / "data", render_short_edge=TEST_SHORT_EDGE)


@pytest.fixture(scope="session")
def aurora() -> BrandKit:
    return load_brand_kit(PROJECT_ROOT / "brand_kits" / "aurora-coffee")


def shot_list_for(brief: Brief, kit: BrandKit, expander: Expander | None = None) -> ShotList:
    """Expand ``brief`` with the repository's templates, for the animatic renderer."""
    fmt = load_format(PROJECT_ROOT / "templates", brief.format)
    return expand(brief, kit, fmt, limits=clip_limits("animatic"), expander=expander)


def brief_data(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "id": "test-brief",
        "brand": "aurora-coffee",
        "format": "social-teaser-15",
        "title": "Sunrise Blend is here",
        "message": "Slow mornings taste better with Sunrise Blend.",
        "audience": "Home brewers",
        "call_to_action": "Order at aurora.example",
        "duration_s": 15,
        "aspect_ratios": ["16:9"],
        "submitted_by": "jordan.pike@aurora-coffee.example",
    }
    data.update(overrides)
    return data


@pytest.fixture
def brief() -> Brief:
    return Brief.model_validate(brief_data())


# --------------------------------------------------------------------------- S3


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real S3 HTTP API on 127.0.0.1 (moto's threaded server), for boto3 over HTTP."""
    from moto.server import ThreadedMotoServer

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "reel-test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "reel-test-secret")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def make_s3_client(endpoint: str) -> S3Client:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


@pytest.fixture(scope="session")
def s3(s3_endpoint: str) -> S3Client:
    return make_s3_client(s3_endpoint)


@pytest.fixture
def bucket(s3: S3Client, request: pytest.FixtureRequest) -> str:
    name = "reel-" + str(request.node.name).lower().replace("_", "-")[:40].strip("-")
    s3.create_bucket(Bucket=name)
    return name


def keys_in(s3: S3Client, bucket: str, prefix: str = "") -> list[str]:
    resp = s3.list_objects_v2(Bucket=bucket, Prefix=prefix)
    return sorted(o["Key"] for o in resp.get("Contents", []))


# --------------------------------------------------------------------------- PostgreSQL

PG_HOST = "postgres@127.0.0.1:5432"  # the server running on this machine (trust auth)


@contextmanager
def postgres_database(prefix: str) -> Iterator[str]:
    """A fresh database on the local PostgreSQL server for the block; dropped after, open
    connections and all. Yields its name."""
    from sqlalchemy import create_engine, text

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(f"postgresql+psycopg://{PG_HOST}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# --------------------------------------------------------------------------- paths


@pytest.fixture
def kits_copy(tmp_path: Path) -> Path:
    """A writable copy of brand_kits/ for tests that break a kit on purpose."""
    dest = tmp_path / "brand_kits"
    shutil.copytree(PROJECT_ROOT / "brand_kits", dest)
    return dest


# --------------------------------------------------------------------------- web


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[str]:
    """A real Prefect server (``prefect_test_harness``) with the produce-video deployment
    registered and nothing serving it: submitted runs stay Scheduled, as on a busy pool."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    from flows.produce_video import produce_video

    with prefect_test_harness(server_startup_timeout=120):
        from prefect.deployments.runner import RunnerDeployment

        deployment = produce_video.to_deployment(name="produce-video")
        assert isinstance(deployment, RunnerDeployment)  # the sync call
        deployment.apply()
        yield str(PREFECT_API_URL.value())
