"""A real lane: a spawned Prefect server, the flows served in a child process (exactly as
`reel up` does), and a moto S3 server on 127.0.0.1 reached by boto3 over HTTP."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from mypy_boto3_s3 import S3Client

from reelfactory.orchestration import run_artifacts as run_artifacts  # for the tests
from reelfactory.settings import PROJECT_ROOT, Settings
from reelfactory.stack import prefect_server, served_flows
from tests.conftest import TEST_SHORT_EDGE
from tests.http_fake import serve_json
from tests.tiny_models import tiny_vit

E2E_BUCKET = "reel-e2e"
# A copy of aurora-coffee whose kit lowers the weapons review threshold to 0.05, and a frame
# classifier that scores every frame 'weapons' at ~0.10: shipped kits allow that frame (their
# review threshold is 0.20), this one sends it to review. Stricter-only thresholds at work.
STRICT_KIT = "frames-strict"
FRAME_LABEL = "holding-object"
FRAME_SCORE = 0.0998  # softmax of logits (-2.2, 0)


def tiny_frame_classifier(path: Path) -> Path:
    """A classifier whose output ignores the image: P(FRAME_LABEL) is FRAME_SCORE always."""
    return tiny_vit(path, [-2.2, 0.0], [FRAME_LABEL, "other"])


TWO_APPROVERS_KIT = "two-approvers"  # needs 2 distinct approvals, posts a webhook
EXPIRING_KIT = "quick-expiry"  # waits 3 s for approval; its webhook is down
SUSPENDING_KIT = "suspending"  # waits for approval suspended: the run's process exits
SUSPEND_EXPIRING_KIT = "suspend-expiry"  # waits suspended for 3 s: no process sees it expire


def aurora_variant(kits: Path, kit_id: str, **changes: Any) -> None:
    """A copy of the aurora-coffee kit under ``kit_id`` with top-level sections changed."""
    shutil.copytree(kits / "aurora-coffee", kits / kit_id)
    kit_file = kits / kit_id / "kit.yaml"
    data = yaml.safe_load(kit_file.read_text())
    data.update(id=kit_id, name=f"Aurora Coffee ({kit_id})")
    for section, values in changes.items():
        data[section] = {**data.get(section, {}), **values}
    kit_file.write_text(yaml.safe_dump(data))


TINY_MODEL = "tiny-wan"  # a randomly initialised Wan pipeline, loaded by the real backend


def tiny_model_registry(root: Path) -> Path:
    """A registry with one tiny Wan model saved under ``root``, for the render pool's tests."""
    from tests.tiny_pipelines import build_tiny_pipeline, registry_entry, write_registry

    weights = build_tiny_pipeline("wan", root / "wan")
    return write_registry(root / "models.yaml", {TINY_MODEL: registry_entry("wan", weights)})


def lane_brand_kits(path: Path, webhook_url: str) -> Path:
    shutil.copytree(PROJECT_ROOT / "brand_kits", path)
    aurora_variant(
        path, STRICT_KIT, moderation={"thresholds": {"weapons": {"review": 0.05, "block": 0.9}}}
    )
    aurora_variant(
        path, TWO_APPROVERS_KIT, approval={"required_approvals": 2, "webhook_url": webhook_url}
    )
    # Nothing listens on port 9 (discard) of 127.0.0.1 here: the webhook fails to connect.
    aurora_variant(
        path, EXPIRING_KIT, approval={"timeout_s": 3, "webhook_url": "http://127.0.0.1:9/hook"}
    )
    aurora_variant(path, SUSPENDING_KIT, approval={"wait": "suspend"})
    aurora_variant(path, SUSPEND_EXPIRING_KIT, approval={"wait": "suspend", "timeout_s": 3})
    return path


@dataclass
class Webhook:
    """The brands' webhook receiver: records every JSON body posted to it."""

    port: int = 0
    received: list[dict[str, Any]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/reelfactory"

    def respond(
        self, path: str, body: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        self.received.append(body)
        return 200, {"ok": True}


@pytest.fixture(scope="session")
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    with serve_json(hook) as port:
        hook.port = port
        yield hook


class Served:
    """The process serving the flows (``python -m flows``), which a test may restart."""

    def __init__(self, settings: Settings, api_url: str, env: dict[str, str]) -> None:
        self.settings, self.api_url, self.env = settings, api_url, env
        self._stack: ExitStack | None = None

    def start(self) -> None:
        self._stack = ExitStack()
        self._stack.enter_context(served_flows(self.settings, self.api_url, extra_env=self.env))

    def stop(self) -> None:
        if self._stack is not None:
            self._stack.close()
            self._stack = None


@dataclass(frozen=True)
class Lane:
    settings: Settings
    api_url: str
    bucket: str
    env: dict[str, str]
    served: Served


@pytest.fixture(scope="session")
def lane(
    tmp_path_factory: pytest.TempPathFactory, s3_endpoint: str, s3: S3Client, webhook: Webhook
) -> Iterator[Lane]:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    root = tmp_path_factory.mktemp("lane")
    data_dir: Path = root / "data"
    env = {
        "REEL_DATA_DIR": str(data_dir),
        "REEL_BRAND_KITS_DIR": str(lane_brand_kits(root / "brand_kits", webhook.url)),
        "REEL_FRAME_CLASSIFIER_MODEL": str(tiny_frame_classifier(root / "frame-classifier")),
        "REEL_FRAME_CLASSIFIER_LABELS": json.dumps({FRAME_LABEL: "weapons"}),
        "REEL_MODEL_REGISTRY": str(tiny_model_registry(root / "models")),
        "REEL_PRICE_CPU_HOUR": "3.6",  # 0.001 per CPU-second: costs and budgets are priced
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
    with ExitStack() as stack:
        with pytest.MonkeyPatch.context() as mp:
            # The server's scheduler looks for due runs every 5 s, not 60: a campaign
            # scheduled every minute gets its run within the test's patience.
            mp.setenv("PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS", "5")
            api_url = stack.enter_context(prefect_server(settings))
        served = Served(settings, api_url, env)
        served.start()
        stack.callback(served.stop)
        stack.enter_context(temporary_settings(updates={PREFECT_API_URL: api_url}))
        yield Lane(
            settings=settings,
            api_url=api_url,
            bucket=E2E_BUCKET,
            env={**env, "PREFECT_API_URL": api_url},
            served=served,
        )
