from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from reelfactory.approval import describe_for_approver, evaluate, parse_changes, waiting_payload
from reelfactory.brand import load_brand_kit
from reelfactory.errors import InputError
from reelfactory.models import (
    ApprovalDecision,
    ApprovalRules,
    BrandKit,
    Brief,
    Decision,
    ModerationReport,
    ReviewChoice,
)
from reelfactory.moderation.review import evaluate_review
from reelfactory.revision import changed_only, describe_revision, revise
from tests.conftest import shot_list_for

APPROVER = "maya.chen@aurora-coffee.example"


def judge(
    brief: Brief, kit: BrandKit, approver: str, decision: str | None, **more: Any
) -> ApprovalDecision:
    return evaluate(
        brief=brief,
        kit=kit,
        flow_run_id="run-1",
        approver=approver,
        decision=decision,
        notes="n",
        **more,
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
        (APPROVER, None, "decision: must be 'approve', 'reject' or 'changes' (got None)"),
        (APPROVER, "maybe", "decision: must be 'approve', 'reject' or 'changes' (got 'maybe')"),
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
        cost="3 shots rendered: 0.0 GPU-s, 4.2 CPU-s",
    )
    assert "## Cost so far\n\n3 shots rendered: 0.0 GPU-s, 4.2 CPU-s" in md
    assert brief.message in md and brief.call_to_action in md
    assert md.count("| hook |") == 1 and "| cta |" in md
    assert "Previous attempt refused" in md
    assert "nothing flagged" in md


def two_approvals(kit: BrandKit) -> BrandKit:
    return kit.model_copy(update={"approval": ApprovalRules(required_approvals=2)})


def test_the_same_approver_cannot_count_twice(brief: Brief, aurora: BrandKit) -> None:
    kit = two_approvals(aurora)
    again = judge(brief, kit, APPROVER, "approve", approved_by=[APPROVER])
    assert not again.accepted
    assert "has already approved; 1 more approval(s) needed" in again.reason
    other = judge(brief, kit, "li.okafor@aurora-coffee.example", "approve", approved_by=[APPROVER])
    assert other.accepted


def test_description_counts_approvals(brief: Brief, aurora: BrandKit) -> None:
    md = describe_for_approver(
        brief=brief,
        kit=two_approvals(aurora),
        shot_list=shot_list_for(brief, aurora),
        report=ModerationReport(subject="s"),
        cuts=[],
        approved_by=[APPROVER],
    )
    assert f"**Approvals:** 1 of 2 distinct approvers (by {APPROVER})" in md


def test_a_kit_cannot_require_more_approvals_than_approvers(kits_copy: Path) -> None:
    kit_file = kits_copy / "kestrel-bikes" / "kit.yaml"
    data = yaml.safe_load(kit_file.read_text())
    data["approval"] = {"required_approvals": 2}
    kit_file.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError, match="2 approvals required but only 1 approvers listed"):
        load_brand_kit(kit_file.parent)


def test_webhook_url_must_be_http(kits_copy: Path) -> None:
    kit_file = kits_copy / "kestrel-bikes" / "kit.yaml"
    data = yaml.safe_load(kit_file.read_text())
    data["approval"] = {"webhook_url": "ftp://hooks.example/x"}
    kit_file.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError, match=r"approval\.webhook_url"):
        load_brand_kit(kit_file.parent)


def test_waiting_payload_names_the_run_and_the_step(brief: Brief, aurora: BrandKit) -> None:
    body = waiting_payload(
        brief=brief,
        kit=two_approvals(aurora),
        step="approval",
        flow_run_id="run-1",
        run_url="http://ui/runs/flow-run/run-1",
        timeout_s=3600,
    )
    assert body["event"] == "reelfactory.run.waiting"
    assert (body["brief_id"], body["brand"], body["required_approvals"]) == (
        brief.brief_id,
        "aurora-coffee",
        2,
    )
    review = waiting_payload(
        brief=brief, kit=aurora, step="review:input", flow_run_id="r", run_url=None, timeout_s=1
    )
    assert review["required_approvals"] == 1 and review["flow_run_url"] is None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "a change request needs 'N: new direction'"),
        ("slower please", "expected 'N: new direction' per shot"),
        ("2:", "expected 'N: new direction' per shot"),
        ("x: slower", "expected 'N: new direction' per shot"),
        ("4: slower", "there is no shot 4 (shots are 1-3)"),
        ("0: slower", "there is no shot 0 (shots are 1-3)"),
        ("2: slower; 2: faster", "shot 2 is named twice"),
    ],
)
def test_malformed_change_requests_are_refused(
    brief: Brief, aurora: BrandKit, text: str, problem: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(problem)):
        parse_changes(text, 3)
    d = judge(brief, aurora, APPROVER, "changes", changes=text, shot_count=3)
    assert not d.accepted and problem in d.reason and d.decision is None


def test_a_change_request_names_shots_and_directions(brief: Brief, aurora: BrandKit) -> None:
    assert parse_changes(" 2: slower push-in ; 3:show the bag;", 3) == {
        2: "slower push-in",
        3: "show the bag",
    }
    d = judge(
        brief, aurora, APPROVER, "changes", changes="1: warmer light", shot_count=3, version=2
    )
    assert d.accepted and d.decision is Decision.REQUEST_CHANGES
    assert (d.changes, d.version) == ({1: "warmer light"}, 2)


def test_revise_changes_only_the_requested_shots(brief: Brief, aurora: BrandKit) -> None:
    shots = shot_list_for(brief, aurora)
    revised = revise(shots, {2: "show the bag on a marble counter"})
    assert revised.shots[1].prompt.endswith("Revision: show the bag on a marble counter.")
    assert [s.prompt for i, s in enumerate(revised.shots) if i != 1] == [
        s.prompt for i, s in enumerate(shots.shots) if i != 1
    ]
    assert [s.name for s in changed_only(revised, {2: "x"}).shots] == [shots.shots[1].name]
    line = describe_revision(1, {2: "show the bag"}, list(shots.shots))
    assert (
        line == f"- **Version 1** — changes requested: shot 2 ({shots.shots[1].name}): show the bag"
    )


@pytest.mark.parametrize(
    ("reviewer", "decision", "reason"),
    [
        ("", None, "reviewer: empty"),
        ("intruder@evil.example", "allow", "not on the 'aurora-coffee' brand kit's reviewers list"),
        (APPROVER, "approve", "decision: must be 'allow' or 'block' (got 'approve')"),
    ],
)
def test_review_refusals(
    brief: Brief, aurora: BrandKit, reviewer: str, decision: str | None, reason: str
) -> None:
    """Reviewers follow the approvers' rules (listed, not the submitter), with allow/block."""
    d = evaluate_review(
        brief=brief, kit=aurora, flow_run_id="r", step="review:input",
        reviewer=reviewer, decision=decision, notes="",
    )  # fmt: skip
    assert not d.accepted and reason in d.reason and d.decision is None


def test_a_listed_reviewer_who_did_not_submit_decides(brief: Brief, aurora: BrandKit) -> None:
    d = evaluate_review(
        brief=brief, kit=aurora, flow_run_id="r", step="review:output",
        reviewer=APPROVER.upper(), decision="block", notes="no",
    )  # fmt: skip
    assert d.accepted and d.decision is ReviewChoice.BLOCK and d.step == "review:output"
    own = brief.model_copy(update={"submitted_by": APPROVER})
    mine = evaluate_review(
        brief=own, kit=aurora, flow_run_id="r", step="review:input",
        reviewer=APPROVER, decision="allow", notes="",
    )  # fmt: skip
    assert not mine.accepted and "submitted this brief and may not review it" in mine.reason
