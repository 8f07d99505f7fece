"""Sora-style rewriting: names, artist styles and third-party brands become generic."""

from __future__ import annotations

import pytest

from reelfactory.models import BrandKit, Brief, RewriteRules
from reelfactory.rewrite import rewrite_text, rules_for
from tests.conftest import brief_data, shot_list_for


def rewrite(kit: BrandKit, text: str) -> tuple[str, list[str]]:
    out, applied = rewrite_text(text, rules_for(kit), shot_index=0, field="direction.subject")
    return out, [a.kind for a in applied]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Taylor Swift sips a latte", "a pop singer sips a latte"),
        ("TAYLOR  SWIFT's morning", "a pop singer morning"),
        ("a nod to taylor-swift", "a nod to a pop singer"),
        ("Ｅｌｏｎ Ｍｕｓｋ on stage", "a tech entrepreneur on stage"),  # full-width, NFKC
        ("Taylor\u200b Swift waves", "a pop singer waves"),  # zero-width space
    ],
)
def test_public_figures_become_generic_people(aurora: BrandKit, text: str, expected: str) -> None:
    assert rewrite(aurora, text) == (expected, ["person"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a cafe in the style of Wes Anderson", "a cafe in a symmetrical pastel storybook style"),
        ("inspired by Banksy, a wall mural", "in a stencilled street-art style, a wall mural"),
        (
            "Miyazaki is not enough; Hayao Miyazaki-style clouds",
            "Miyazaki is not enough; hand-drawn watercolour animated fantasy-style clouds",
        ),
        ("a mural by Banksy", "a mural by a stencilled street-art artist"),
    ],
)
def test_living_artists_become_style_descriptors(
    aurora: BrandKit, text: str, expected: str
) -> None:
    out, kinds = rewrite(aurora, text)
    assert out == expected
    assert kinds == ["artist"]


def test_brands_become_generic_nouns_from_builtin_and_kit(aurora: BrandKit) -> None:
    out, kinds = rewrite(aurora, "a Coca-Cola next to a Starbucks cup and a Nespresso")
    assert out == (
        "a cola soft drink next to a generic coffee-shop chain cup and a coffee-capsule machine"
    )
    assert sorted(kinds) == ["brand", "brand", "brand"]


def test_kit_entry_wins_over_builtin(aurora: BrandKit) -> None:
    # Built in: "a coffee chain"; the Aurora kit says "a generic coffee-shop chain".
    assert rewrite(aurora, "Starbucks")[0] == "a generic coffee-shop chain"


def test_word_boundaries_and_the_kit_own_brand(aurora: BrandKit) -> None:
    assert rewrite(aurora, "Cokehead is not Coke")[0] == "Cokehead is not a cola soft drink"
    own = aurora.model_copy(
        update={"name": "Nike", "rewrites": RewriteRules(brands={"Adidas": "rival trainers"})}
    )
    assert rewrite(own, "Nike shoes, not Adidas") == ("Nike shoes, not rival trainers", ["brand"])


def test_rewrites_are_recorded_and_captions_left_alone(aurora: BrandKit) -> None:
    brief = Brief.model_validate(
        brief_data(
            audience="fans of Taylor Swift who queue at Starbucks",
            title="Better than Starbucks?",  # copy: moderation's job, never rewritten
        )
    )
    shots = shot_list_for(brief, aurora)
    hook, product = shots.shots[0], shots.shots[1]
    assert "Taylor Swift" not in hook.prompt and "a pop singer" in hook.prompt
    assert "Starbucks" not in product.prompt
    assert product.caption == "Better than Starbucks?"
    found = {(r.shot_index, r.kind, r.original) for r in shots.rewrites}
    assert (0, "person", "Taylor Swift") in found
    assert (0, "brand", "Starbucks") in found
    assert (1, "brand", "Starbucks") in found
    assert all(r.field.startswith("direction.") and r.reason for r in shots.rewrites)
    assert "real public figure" in next(r.reason for r in shots.rewrites if r.kind == "person")


def test_clean_text_is_untouched(aurora: BrandKit) -> None:
    text = "a barista pours latte art at dawn"
    assert rewrite(aurora, text) == (text, [])
