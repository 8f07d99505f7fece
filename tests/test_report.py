"""Cost and ROI reports: the arithmetic (pure), the records on SQLite and PostgreSQL, the CLI."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reelfactory import db
from reelfactory.cli import app
from reelfactory.models import CostRecord, VideoRecord
from reelfactory.report import campaign_rows, roi
from tests.test_db import db_url  # noqa: F401  (the SQLite + PostgreSQL fixture)

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def video(n: int, status: str, brand: str = "aurora-coffee", **extra: object) -> VideoRecord:
    data: dict[str, object] = {
        "flow_run_id": f"run-{brand}-{n}",
        "brief_id": f"{brand}-{n}",
        "brand": brand,
        "campaign": "spring",
        "status": status,
        "submitted_at": T0 + timedelta(days=n),
        "decided_at": None if status == "blocked" else T0 + timedelta(days=n, hours=2 * n),
        "finished_at": T0 + timedelta(days=n, hours=2 * n, minutes=5),
        "cost": CostRecord(renders=3, reused=1, cpu_s=30.0, saved_cpu_s=10.0),
        "priced": 0.03,
    }
    data.update(extra)
    return VideoRecord.model_validate(data)


RUNS = [
    video(1, "published"),
    video(2, "published", versions=2),
    video(3, "rejected"),
    video(4, "blocked", cost=CostRecord(), priced=0.0),
    video(1, "published", brand="kestrel", priced=None),
]


def test_roi_per_brand_and_overall() -> None:
    aurora, kestrel, everything = roi(RUNS, traditional_per_video=500.0)
    assert (aurora.brand, kestrel.brand, everything.brand) == ("aurora-coffee", "kestrel", "all")
    assert (aurora.runs, aurora.published, aurora.rejected, aurora.blocked) == (4, 2, 1, 1)
    assert aurora.rejection_rate == pytest.approx(1 / 3, abs=1e-4)
    assert aurora.total_cost == pytest.approx(0.09) and aurora.per_video_cost == pytest.approx(
        0.045
    )
    assert aurora.cost.cpu_s == 90 and aurora.cost.saved_cpu_s == 30 and aurora.cost.reused == 3
    assert aurora.median_turnaround_s == 4 * 3600  # 2 h, 4 h, 6 h
    assert aurora.traditional_total == 1000 and aurora.saving == pytest.approx(999.91)
    # One unpriced run makes a total unknowable rather than too low.
    assert kestrel.total_cost is None and everything.total_cost is None and kestrel.saving is None
    assert everything.published == 3
    assert roi([]) == []


def test_campaign_rows() -> None:
    rows = campaign_rows(RUNS[:2])
    assert [r["brief_id"] for r in rows] == ["aurora-coffee-1", "aurora-coffee-2"]
    assert rows[1]["versions"] == 2 and rows[0]["saved_s"] == 10 and rows[0]["cost"] == 0.03
    assert rows[0]["turnaround_s"] == 7200


def test_video_records_round_trip_and_filter(db_url: str) -> None:  # noqa: F811
    db.init_db(db_url)
    with db.session_for(db_url) as session:
        for run in RUNS:
            db.record_video(session=session, video=run)
        again = db.record_video(session=session, video=RUNS[0])  # a retried task
        assert again.flow_run_id == RUNS[0].flow_run_id
    with db.session_for(db_url) as session:
        assert db.videos(session=session) == RUNS  # times come back in UTC, equal
        assert db.videos(session=session, brand="kestrel") == RUNS[4:]
        later = db.videos(session=session, since=T0 + timedelta(days=3))
        assert [r.brief_id for r in later] == ["aurora-coffee-3", "aurora-coffee-4"]


def test_report_commands(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'reel.db'}"
    db.init_db(url)
    with db.session_for(url) as session:
        for run in RUNS:
            db.record_video(session=session, video=run)
    runner = CliRunner(env={"REEL_DATA_DIR": str(tmp_path), "REEL_DB_URL": url})

    out = runner.invoke(app, ["report", "campaign", "spring", "--csv"])
    assert out.exit_code == 0, out.output
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert len(rows) == 5 and rows[3]["status"] == "blocked"

    out = runner.invoke(app, ["report", "roi", "--since", "2026-11-04", "--json"])
    assert out.exit_code == 0, out.output
    brands = {b["brand"]: b for b in json.loads(out.stdout)["brands"]}
    assert brands["aurora-coffee"]["runs"] == 3  # finished on or after the 4th: runs 2-4
    assert "kestrel" not in brands  # its run finished on the 3rd

    assert runner.invoke(app, ["report", "roi", "--since", "last week"]).exit_code == 2
    missing = runner.invoke(app, ["report", "campaign", "winter"])
    assert missing.exit_code == 1 and "no recorded runs" in missing.output
