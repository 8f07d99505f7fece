from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect

from reelfactory import db
from reelfactory.models import ApprovalDecision, AspectRatio, Decision, Publication
from tests.conftest import PG_HOST, postgres_database


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'reel.db'}"
        return
    with postgres_database("reel_test") as name:
        url = f"postgresql+psycopg://{PG_HOST}/{name}"
        try:
            yield url
        finally:
            db.engine_for(url).dispose()


def publication(run: str = "run-1") -> Publication:
    return Publication(
        brief_id="b",
        flow_run_id=run,
        aspect_ratio=AspectRatio.SQUARE,
        bucket="bk",
        key="k.mp4",
        uri="s3://bk/k.mp4",
        captions_key="k.vtt",
        captions_uri="s3://bk/k.vtt",
        sha256="0" * 64,
        size=10,
        duration_s=15.0,
        width=96,
        height=96,
        link="https://example/k.mp4",
    )


def test_migrations_and_records(db_url: str) -> None:
    engine = db.init_db(db_url)
    db.init_db(db_url)  # idempotent
    tables = set(inspect(engine).get_table_names())
    assert {"publication", "approval_audit", "alembic_version"} <= tables

    with db.session_for(db_url) as session:
        first = db.record_publication(
            session=session, publication=publication(), at=datetime.now(UTC)
        )
        again = db.record_publication(
            session=session, publication=publication(), at=datetime.now(UTC)
        )
        assert first.id == again.id  # a retried publish step does not duplicate the row
        db.record_decision(
            session=session,
            decision=ApprovalDecision(
                brief_id="b",
                flow_run_id="run-1",
                approver="x@y.z",
                decision=None,
                accepted=False,
                reason="approver: not listed",
            ),
        )
        db.record_decision(
            session=session,
            decision=ApprovalDecision(
                brief_id="b",
                flow_run_id="run-1",
                approver="a@b.c",
                decision=Decision.APPROVE,
                accepted=True,
            ),
        )
    with db.session_for(db_url) as session:
        rows = db.decisions_for_run(session=session, flow_run_id="run-1")
        assert [(r.approver, r.decision, r.accepted) for r in rows] == [
            ("x@y.z", None, False),
            ("a@b.c", "approve", True),
        ]
        pubs = db.publications_for_run(session=session, flow_run_id="run-1")
        assert [(p.key, p.aspect_ratio, p.sha256) for p in pubs] == [("k.mp4", "1:1", "0" * 64)]
