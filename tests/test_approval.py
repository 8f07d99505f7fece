from __future__ import annotations

import pytest

from reelfactory.approval import describe_for_approver, evaluate
from reelfactory.models import BrandKit, Brief, Decision, ModerationReport
from tests.conftest import shot_list_for

APPROVER = "maya.chen@aurora-coffee.example"


def judge(brief: Brief, kit: BrandKit, approver: str, decision: str | None):  # type: ignore[no-untyped-def]
    return evaluate(
        brief=brief, kit=kit, flow_run_id="run-1", approver=approver, decision=decision, notes="n"
    )


def test_listed_approver_decides(brief: Brief, aurora: BrandKit) -> None:
    for choice in ("approve", "reject"):
        d = judge(brief, aurora, f"  {APPROVER.upper()} ", choice)
        assert d.accepted and d.decision is Decision(choice)
        assert d.approver == APPROVER and d.reason == ""


@pytest.mark.parametrize(
    ("approver", "decision", "reason"),
    [
        ("", None, "approver: empty"),  # Prefect's resume-without-input: initial data
        ("", "approve", "approver: empty"),
        (
            "intruder@evil.example",
            "approve",
            "not on the 'aurora-coffee' brand kit's approvers list",
        ),
        (APPROVER, None, "decision: must be 'approve' or 'reject' (got None)"),
        (APPROVER, "maybe", "decision: must be 'approve' or 'reject' (got 'maybe')"),
    ],
)
def test_refusals(
    brief: Brief, aurora: BrandKit, approver: str, decision: str | None, reason: str
) -> None:
    d = judge(brief, aurora, approver, decision)
    assert not d.accepted
    assert d.decision is None
    assert reason in d.reason


def test_submitter_cannot_approve_own_brief(aurora: BrandKit, brief: Brief) -> None:
    own = brief.model_copy(update={"submitted_by": APPROVER})
    d = judge(own, aurora, APPROVER, "approve")
    assert not d.accepted and "submitted this brief" in d.reason


def test_description_holds_brief_shots_and_refusal(brief: Brief, aurora: BrandKit) -> None:
    shots = shot_list_for(brief, aurora)
    md = describe_for_approver(
        brief=brief,
        kit=aurora,
        shot_list=shots,
        report=ModerationReport(subject="s"),
        cuts=[],
        refusal="approver: 'x@y.z' is not listed",
    )
    assert brief.message in md and brief.call_to_action in md
    assert md.count("| hook |") == 1 and "| cta |" in md
    assert "Previous attempt refused" in md
    assert "nothing flagged" in md
