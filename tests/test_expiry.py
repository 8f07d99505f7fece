"""The pure half of auditing expired suspended waits (the sweep itself runs in the e2e lane)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from reelfactory.expiry import ExpiredWait, expiry_message, step_of, to_audit


@pytest.mark.parametrize(
    ("key", "step"),
    [("approval-1", "approval"), ("approval-12", "approval"), ("review-input-1", "review:input")],
)
def test_the_step_comes_back_from_its_pause_key(key: str, step: str) -> None:
    assert step_of(key) == step


def test_a_swept_expiry_is_audited_as_the_run_would_have() -> None:
    at = datetime(2026, 11, 29, 7, 0, tzinfo=UTC)
    wait = ExpiredWait("run-1", "brief-1", "approval", 3, at)
    row = to_audit(wait)
    assert (row.flow_run_id, row.brief_id, row.step) == ("run-1", "brief-1", "approval")
    assert (row.approver, row.decision, row.accepted, row.decided_at) == ("", None, False, at)
    assert row.reason == "expired: " + expiry_message("approval", 3)
    assert expiry_message("approval", 3) == "no approval decision within 3 s; nothing was published"
