"""Record approval decisions in the audit table."""

from __future__ import annotations

from prefect import task

from reelfactory import db
from reelfactory.models import ApprovalDecision


@task(name="record-decision", retries=3, retry_delay_seconds=[1, 3, 10])
def record_decision(decision: ApprovalDecision, db_url: str) -> None:
    """Write one audit row per approval attempt, refused ones included."""
    with db.session_for(db_url) as session:
        db.record_decision(session=session, decision=decision)
