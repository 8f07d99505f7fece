"""`reel moderate` and `reel moderation-eval`: the figures, the datasets, the CLI contract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reelfactory.cli import app
from reelfactory.errors import InputError
from reelfactory.models import ModerationFinding, ModerationReport, Verdict
from reelfactory.moderation.dataset import DEFAULT_EVAL, DEFAULT_TRAIN, Labelled, load_dataset
from reelfactory.moderation.evaluate import Outcome, summarise

FIXTURE = [
    {"text": "a nude model on the beach", "expected": "block", "category": "sexual"},
    {"text": "c 0 c a i n e lines on a mirror", "expected": "block", "category": "drugs"},
    {
        "text": "Slow mornings taste better with Sunrise Blend",
        "expected": "allow",
        "category": "benign",
    },
    {"text": "A killer deal on espresso machines", "expected": "allow", "category": "benign"},
    {
        "text": "Better than Starbucks, every single morning",
        "expected": "block",
        "category": "brand-rules",
        "brand": "aurora-coffee",
    },
]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def write_jsonl(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def outcome(category: str, expected: str, verdict: Verdict, flagged_as: str = "") -> Outcome:
    row = Labelled(text="t", expected=Verdict(expected), category=category)
    findings = (
        [ModerationFinding(layer="l", category=flagged_as, verdict=verdict, field="text")]
        if verdict is not Verdict.ALLOW
        else []
    )
    return Outcome(row, ModerationReport(subject="text", findings=findings))


def test_summarise_counts_recall_precision_and_false_blocks() -> None:
    outcomes = [
        outcome("violence", "block", Verdict.BLOCK, "violence"),
        outcome("violence", "block", Verdict.REVIEW, "weapons"),  # caught, other category
        outcome("violence", "review", Verdict.ALLOW),  # missed
        outcome("benign", "allow", Verdict.ALLOW),
        outcome("benign", "allow", Verdict.BLOCK, "violence"),  # false block
        outcome("benign", "allow", Verdict.REVIEW, "weapons"),  # false review
    ]
    s = summarise(outcomes)
    o = s["overall"]
    assert (o["tp"], o["fp"], o["fn"], o["tn"]) == (2, 2, 1, 1)
    assert (o["recall"], o["precision"]) == (round(2 / 3, 4), 0.5)
    assert o["accuracy"] == round(2 / 6, 4)  # exact verdicts: the first and the allowed benign
    assert (o["false_flag_rate"], o["false_block_rate"]) == (round(2 / 3, 4), round(1 / 3, 4))
    v = s["categories"]["violence"]
    assert (v["n"], v["flagged"], v["blocked"], v["recall"]) == (3, 2, 1, round(2 / 3, 4))
    assert v["precision"] == 0.5  # flagged *as* violence: one disallowed, one benign
    assert s["categories"]["benign"]["false_blocks"] == 1
    assert [m["expected"] for m in s["misses"]] == [Verdict.REVIEW]
    assert s["targets"]["recall_met"] is False


def test_bad_dataset_lines_name_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(
        '{"text": "ok", "expected": "allow", "category": "benign"}\n'
        "not json\n"
        '{"text": "x", "expected": "maybe", "category": "benign"}\n'
        '{"text": "x", "expected": "block", "category": "tax-fraud"}\n'
        '{"text": "x", "expected": "allow", "category": "violence"}\n',
        encoding="utf-8",
    )
    with pytest.raises(InputError) as info:
        load_dataset(path)
    problems = info.value.problems
    assert problems[0].startswith("line 2: not valid JSON")
    assert problems[1].startswith("line 3: expected:")
    assert problems[2] == "line 4: category: unknown category 'tax-fraud'"
    assert problems[3].startswith("line 5: expected: 'allow' does not fit category 'violence'")


def test_shipped_sets_are_large_separate_and_cover_every_category() -> None:
    evaluation, training = load_dataset(DEFAULT_EVAL), load_dataset(DEFAULT_TRAIN)
    assert len(evaluation) >= 400
    assert not {r.text.casefold() for r in evaluation} & {r.text.casefold() for r in training}
    categories = {str(r.category) for r in evaluation}
    assert categories >= {
        "sexual", "minors", "violence", "self-harm", "hate", "weapons", "drugs",
        "likeness", "deceptive", "ip", "brand-rules", "benign",
    }  # fmt: skip


def test_moderation_eval_on_a_fixture_set(runner: CliRunner, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "set.jsonl", FIXTURE)
    result = runner.invoke(app, ["moderation-eval", str(path), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["dataset"] == str(path)
    assert summary["overall"]["n"] == 5
    assert summary["overall"]["recall"] == 1.0
    assert summary["categories"]["brand-rules"]["recall"] == 1.0
    assert summary["categories"]["benign"]["false_blocks"] == 0
    table = runner.invoke(app, ["moderation-eval", str(path)])
    assert "| **overall** | 5 | 100.00% |" in table.stdout


def test_moderation_eval_reports_a_bad_dataset(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["moderation-eval", str(tmp_path / "missing.jsonl")])
    assert result.exit_code == 2
    assert "missing.jsonl: file not found" in result.output


def test_moderate_text_prints_the_verdict_with_reasons(runner: CliRunner) -> None:
    result = runner.invoke(
        app, ["moderate", "A n4k3d model with Starbucks cups", "--brand", "aurora-coffee", "--json"]
    )
    assert result.exit_code == 1
    verdict = json.loads(result.stdout)
    assert verdict["verdict"] == "block"
    assert any("sexual" in r and "leetspeak" in r for r in verdict["reasons"])
    assert any(f["category"] == "brand-rules" for f in verdict["findings"])
    clean = runner.invoke(app, ["moderate", "Slow mornings taste better", "--json"])
    assert clean.exit_code == 0 and json.loads(clean.stdout)["verdict"] == "allow"


def test_moderate_file_prints_one_verdict_per_line_in_order(
    runner: CliRunner, tmp_path: Path
) -> None:
    lines = ["Slow mornings taste better", "fans of gore", "A barista pours latte art"]
    path = tmp_path / "lines.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["moderate", "--file", str(path), "--json"])
    assert result.exit_code == 1
    out = [json.loads(x) for x in result.stdout.splitlines()]
    assert [o["subject"] for o in out] == ["line 1", "line 2", "line 3"]
    assert [o["verdict"] for o in out] == ["allow", "block", "allow"]


def test_moderate_needs_exactly_one_input(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["moderate"])
    assert result.exit_code == 2 and "exactly one of TEXT" in result.output
    missing = runner.invoke(app, ["moderate", "--frames", str(tmp_path / "none.mp4")])
    assert missing.exit_code == 2 and "--frames: no such file" in missing.output
    unknown = runner.invoke(app, ["moderate", "hi", "--brand", "nope"])
    assert unknown.exit_code == 2 and "unknown brand kit 'nope'" in unknown.output
