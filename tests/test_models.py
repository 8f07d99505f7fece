from __future__ import annotations

import pytest
from pydantic import ValidationError

from reelfactory.models import AspectRatio, Brief, ModerationFinding, ModerationReport, Verdict
from tests.conftest import brief_data


@pytest.mark.parametrize(
    ("ratio", "short", "size"),
    [
        ("16:9", 720, (1280, 720)),
        ("9:16", 720, (720, 1280)),
        ("1:1", 720, (720, 720)),
        ("16:9", 96, (170, 96)),
        ("9:16", 97, (96, 172)),  # odd short edge rounds to even
    ],
)
def test_aspect_ratio_sizes_are_even(ratio: str, short: int, size: tuple[int, int]) -> None:
    assert AspectRatio(ratio).size(short) == size
    assert all(side % 2 == 0 for side in size)


def test_brief_id_is_derived_from_content_when_missing() -> None:
    a = Brief.model_validate(brief_data(id=None))
    b = Brief.model_validate(brief_data(id=None))
    c = Brief.model_validate(brief_data(id=None, message="Something else entirely."))
    assert a.brief_id == b.brief_id
    assert a.brief_id != c.brief_id
    assert a.brief_id.startswith("aurora-coffee-")


def test_brief_normalises_submitter_email() -> None:
    brief = Brief.model_validate(brief_data(submitted_by="  Jordan.Pike@Aurora-Coffee.Example "))
    assert brief.submitted_by == "jordan.pike@aurora-coffee.example"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("message", "   "),
        ("duration_s", 0),
        ("duration_s", 601),
        ("aspect_ratios", ["4:3"]),
        ("aspect_ratios", ["16:9", "16:9"]),
        ("submitted_by", "not-an-email"),
        ("brand", "Bad Brand!"),
    ],
)
def test_brief_rejects_bad_fields(field: str, value: object) -> None:
    with pytest.raises(ValidationError) as info:
        Brief.model_validate(brief_data(**{field: value}))
    assert {e["loc"][0] for e in info.value.errors()} == {field}


def test_report_verdict_is_the_worst_finding() -> None:
    def finding(v: Verdict) -> ModerationFinding:
        return ModerationFinding(
            layer="x", category="c", verdict=v, field="f", term="t", span=(0, 1), excerpt="t"
        )

    assert ModerationReport(subject="s").verdict is Verdict.ALLOW
    report = ModerationReport(
        subject="s", findings=[finding(Verdict.REVIEW), finding(Verdict.BLOCK)]
    )
    assert report.verdict is Verdict.BLOCK
