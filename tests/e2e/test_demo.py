"""`reel demo` on the embedded defaults: its own Prefect server, local publishing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from reelfactory.media import sha256_file
from reelfactory.settings import PROJECT_ROOT
from tests.media_checks import probe

pytestmark = pytest.mark.e2e


def test_demo_publishes_locally_and_files_outlive_the_command(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("REEL_", "PREFECT_API_URL", "AWS_"))
    }
    env.update(
        REEL_DATA_DIR=str(tmp_path / "data"),
        REEL_RENDER_SHORT_EDGE="96",
        REEL_PREFECT_PORT="0",
        REEL_APPROVAL_POLL_S="1",
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "reelfactory",
            "demo",
            "--approve-as",
            "maya.chen@aurora-coffee.example",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
        cwd=PROJECT_ROOT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(out) >= {
        "status",
        "flow_run_id",
        "uri",
        "captions_uri",
        "sha256",
        "duration_s",
        "width",
        "height",
    }
    assert out["status"] == "published"
    video = Path(unquote(urlparse(out["uri"]).path))
    captions = Path(unquote(urlparse(out["captions_uri"]).path))
    bucket = tmp_path / "data" / "bucket"
    assert video == bucket / "published/aurora-coffee/adhoc/aurora-sunrise-blend-launch/v1/16x9.mp4"
    assert video.is_file() and captions.read_text().startswith("WEBVTT")
    assert sha256_file(video) == out["sha256"]
    assert (probe(video).width, probe(video).height) == (out["width"], out["height"]) == (170, 96)
    assert out["duration_s"] == pytest.approx(15.0, abs=1 / 24)
    # What it cost: the demo's renders, assembly and moderation, in seconds (no prices set).
    cost = out["cost"]
    assert cost["renders"] + cost["reused"] == 3 and cost["assembly_s"] > 0
    assert cost["priced"] is None
    # The UI link was printed, and the server the demo started is gone.
    assert "/runs/flow-run/" + out["flow_run_id"] in result.stderr
