"""A real lane: a spawned Prefect server, the flows served in a child process (exactly as
`reel up` does), and a moto S3 server on 127.0.0.1 reached by boto3 over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from mypy_boto3_s3 import S3Client

from reelfactory.settings import Settings
from reelfactory.stack import prefect_server, served_flows
from tests.conftest import TEST_SHORT_EDGE

E2E_BUCKET = "reel-e2e"


@dataclass(frozen=True)
class Lane:
    settings: Settings
    api_url: str
    bucket: str
    env: dict[str, str]


@pytest.fixture(scope="session")
def lane(
    tmp_path_factory: pytest.TempPathFactory, s3_endpoint: str, s3: S3Client
) -> Iterator[Lane]:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    data_dir: Path = tmp_path_factory.mktemp("lane") / "data"
    env = {
        "REEL_DATA_DIR": str(data_dir),
        "REEL_RENDER_SHORT_EDGE": str(TEST_SHORT_EDGE),
        "REEL_APPROVAL_POLL_S": "1",
        "REEL_S3_ENDPOINT_URL": s3_endpoint,
        "REEL_S3_BUCKET": E2E_BUCKET,
        "REEL_PREFECT_PORT": "0",
    }
    s3.create_bucket(Bucket=E2E_BUCKET)
    # The REEL_* settings reach the served flows through their environment only: this
    # process's environment stays as it was, so unit tests collected after these see defaults.
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        settings = Settings()
    with (
        prefect_server(settings) as api_url,
        served_flows(settings, api_url, extra_env=env),
        temporary_settings(updates={PREFECT_API_URL: api_url}),
    ):
        yield Lane(
            settings=settings,
            api_url=api_url,
            bucket=E2E_BUCKET,
            env={**env, "PREFECT_API_URL": api_url},
        )
