"""Normalisation undoes the usual evasion tricks before any layer runs, and maps every
match back to the characters the user typed."""

from __future__ import annotations

import pytest

from reelfactory.moderation.normalize import MAX_CHARS, normalise
from reelfactory.moderation.text import TextItem, builtin_blocklist


@pytest.mark.parametrize(
    ("text", "reads", "trick"),
    [
        ("ｎｕｄｅ beach", "nude beach", "compatibility forms"),  # fullwidth letters
        ("nu\u200bd\u200de", "nude", "invisible characters"),  # zero-width space / joiner
        ("сосаine lines", "cocaine lines", "mixed scripts"),  # Cyrillic с, о, а + Latin
        ("ѕех on the beach", "sex on the beach", "look-alike letters"),  # all Cyrillic
        ("s e x on the beach", "sex on the beach", "spaced letters"),
        ("n.u.d.e", "nude", "spaced letters"),
        ("E.l.o.n M.u.s.k rides", "elon musk rides", "spaced letters"),  # word gap kept
        ("m a s s  s h o o t i n g", "mass shooting", "spaced letters"),  # double space
        ("with a M i c k e y  M o u s e", "with a mickey mouse", "spaced letters"),
    ],
)
def test_tricks_are_undone(text: str, reads: str, trick: str) -> None:
    n = normalise(text)
    assert reads in [v.text for v in n.views]
    assert trick in n.tricks


def test_leetspeak_is_a_second_view_so_numbers_stay_intact() -> None:
    n = normalise("A n4k3d model, 100km, mp4")
    assert n.views[0].text == "a n4k3d model, 100km, mp4"  # the plain view is untouched
    assert "a naked model" in n.views[1].text
    assert "leetspeak" in n.tricks


def test_plain_text_has_one_view_and_no_tricks() -> None:
    n = normalise("Crème brûlée at the Straße café")
    assert [v.text for v in n.views] == ["creme brulee at the strasse cafe"]
    assert n.tricks == frozenset()


def test_real_cyrillic_text_is_not_rewritten() -> None:
    assert normalise("Москва кофе").text == "москва кофе"


def test_whitespace_runs_fold_to_one_space() -> None:
    assert normalise("  slow \t\n mornings  ").text == "slow mornings"


@pytest.mark.parametrize(
    "text",
    ["Buy n\u200bu\u200bd\u200be prints", "Buy ｎｕｄｅ prints", "Buy n.u.d.e prints"],
)
def test_spans_point_at_what_the_user_typed(text: str) -> None:
    [signal] = [s for s in builtin_blocklist().scan([TextItem("f", text)]) if not s.presence]
    assert signal.span is not None
    typed = text[signal.span[0] : signal.span[1]]
    assert normalise(typed).text == "nude"
    assert text.startswith("Buy ") and signal.span[0] == 4


def test_very_long_text_is_capped_and_says_so() -> None:
    text = "slow mornings " * (MAX_CHARS // 10)
    n = normalise(text)
    assert n.truncated
    assert len(n.original) == MAX_CHARS
    assert not normalise("short").truncated
