from __future__ import annotations

import pytest

from reelfactory.errors import ModerationBlocked
from reelfactory.intake import plan
from reelfactory.models import BrandKit, Brief, Verdict
from reelfactory.moderation import BUILTIN_BLOCKLIST, Blocklist, moderate_brief, scan
from reelfactory.settings import Settings
from tests.conftest import brief_data

BRAND = Blocklist("blocklist:brand:test", {"brand-rules": ("cheap", "zero risk", "StarBucks")})


@pytest.mark.parametrize(
    ("text", "term", "span"),
    [
        ("So CHEAP!", "cheap", (3, 8)),
        ("cheap", "cheap", (0, 5)),
        ("ｃｈｅａｐ coffee", "cheap", (0, 5)),  # fullwidth letters fold under NFKC
        ("it is zero   risk", "zero risk", (6, 17)),  # any whitespace between words
        ("better than starbucks.", "StarBucks", (12, 21)),
    ],
)
def test_blocklist_matches(text: str, term: str, span: tuple[int, int]) -> None:
    [finding] = BRAND.findings("brief.message", text)
    assert (finding.term, finding.span, finding.verdict) == (term, span, Verdict.BLOCK)
    assert finding.field == "brief.message"
    assert finding.layer == "blocklist:brand:test"


@pytest.mark.parametrize("text", ["cheapskate", "inexpensive", "zero-risky", "Starbucksy"])
def test_blocklist_respects_word_boundaries(text: str) -> None:
    assert BRAND.findings("f", text) == []


def test_builtin_list_catches_unsafe_terms() -> None:
    builtin = Blocklist("blocklist:builtin", BUILTIN_BLOCKLIST)
    found = scan([("brief.message", "a nude model"), ("brief.audience", "fans of gore")], [builtin])
    assert {(f.field, f.category, f.term) for f in found} == {
        ("brief.message", "sexual", "nude"),
        ("brief.audience", "violence", "gore"),
    }


def test_brief_report_names_field_and_excerpt(aurora: BrandKit) -> None:
    brief = Brief.model_validate(brief_data(call_to_action="Guaranteed cheap coffee, order now"))
    report = moderate_brief(brief, aurora)
    assert report.verdict is Verdict.BLOCK
    assert {(f.field, f.term) for f in report.findings} == {
        ("brief.call_to_action", "guaranteed"),
        ("brief.call_to_action", "cheap"),
    }
    assert all("Guaranteed cheap coffee" in f.excerpt for f in report.findings)


def test_clean_brief_is_allowed(aurora: BrandKit, brief: Brief) -> None:
    assert moderate_brief(brief, aurora).verdict is Verdict.ALLOW


def test_plan_stops_banned_brief_before_expansion() -> None:
    brief = Brief.model_validate(brief_data(message="The cheap way to wake up"))
    with pytest.raises(ModerationBlocked) as info:
        plan(brief, Settings())
    message = str(info.value)
    assert "brief.message contains brand-rules term 'cheap'" in message
    assert "'The cheap way to wake up'" in message
