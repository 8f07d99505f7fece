"""Sora-style prompt rewriting: what must not be generated is replaced before rendering.

- names of real public figures become generic descriptions;
- "in the style of <living artist>" becomes a style descriptor;
- competitor and third-party brand names become generic nouns.

This is where the content goes, not a word filter: the shot still gets made, without the
likeness, the artist's name or the trademark. Every rewrite is recorded with its reason.
Captions are never rewritten: they are the brief's approved copy (moderation checks them).
Pure.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

import yaml

from reelfactory.models import BrandKit, Rewrite, RewriteRules

Kind = Literal["person", "artist", "brand"]

REASONS: dict[Kind, str] = {
    "person": "real public figure: a likeness is never generated",
    "artist": "living artist: the style is described, the artist is not named",
    "brand": "third-party brand: its trademark is never generated",
}
ARTICLE = re.compile(r"^(?:a|an|the)\s", re.IGNORECASE)
STYLE_LEAD = r"(?:in\s+the\s+(?:style|manner|vein)\s+of|inspired\s+by|[àa]\s+la)"


@dataclass(frozen=True)
class Rule:
    pattern: re.Pattern[str]
    replacement: str
    kind: Kind
    name: str


ZERO_WIDTH = re.compile("[\u200b-\u200d\u2060\ufeff]")


def normalise(text: str) -> str:
    """NFKC (folds full-width and compatibility letters) and no zero-width characters, so
    "Taylor\u200bSwift" cannot slip past a rule."""
    return ZERO_WIDTH.sub("", unicodedata.normalize("NFKC", text))


def _name_pattern(name: str) -> str:
    words = [re.escape(w) for w in re.split(r"[\s\-]+", normalise(name).strip()) if w]
    return r"[\s\-]+".join(words)


def _bounded(body: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)


@cache
def builtin_rules() -> RewriteRules:
    text = resources.files("reelfactory").joinpath("data/rewrites.yaml").read_text("utf-8")
    return RewriteRules.model_validate(yaml.safe_load(text))


def rules_for(kit: BrandKit) -> tuple[Rule, ...]:
    """Built-in lists plus the kit's (the kit wins on a name); never the kit's own brand."""
    own = normalise(kit.name).casefold()
    merged: dict[Kind, dict[str, tuple[str, str]]] = {"person": {}, "artist": {}, "brand": {}}
    for source in (builtin_rules(), kit.rewrites):
        lists: tuple[tuple[Kind, dict[str, str]], ...] = (
            ("person", source.people),
            ("artist", source.artists),
            ("brand", source.brands),
        )
        for kind, names in lists:
            for name, replacement in names.items():
                merged[kind][normalise(name).casefold()] = (name, replacement)
    rules: list[Rule] = []
    for kind, entries in merged.items():
        for key, (name, replacement) in entries.items():
            if key == own:
                continue
            body = _name_pattern(name)
            if kind == "artist":
                rules += [
                    Rule(
                        _bounded(rf"{STYLE_LEAD}\s+{body}"), f"in a {replacement} style", kind, name
                    ),
                    Rule(
                        _bounded(rf"{body}[\s\-]*(?:style|esque)"),
                        f"{replacement}-style",
                        kind,
                        name,
                    ),
                    Rule(_bounded(body), f"a {replacement} artist", kind, name),
                ]
            else:
                body = rf"{body}(?:['’]s)?"
                if ARTICLE.match(replacement):  # "a Coca-Cola" -> "a cola drink", not "a a ..."
                    body = rf"(?:(?:a|an|the)\s+)?{body}"
                rules.append(Rule(_bounded(body), replacement, kind, name))
    # Longer names first, so "Coca-Cola" is rewritten before "Coke" could half-match.
    return tuple(sorted(rules, key=lambda r: -len(r.name)))


def rewrite_text(
    text: str, rules: tuple[Rule, ...], *, shot_index: int, field: str
) -> tuple[str, list[Rewrite]]:
    """Apply every rule to ``text``; return the new text and what was rewritten."""
    out = normalise(text)
    applied: list[Rewrite] = []
    for rule in rules:

        def swap(match: re.Match[str], rule: Rule = rule) -> str:
            applied.append(
                Rewrite(
                    shot_index=shot_index,
                    field=field,
                    kind=rule.kind,
                    original=ARTICLE.sub("", match.group(0)),
                    replacement=rule.replacement,
                    reason=f"{REASONS[rule.kind]} ({rule.name})",
                )
            )
            return rule.replacement

        out = rule.pattern.sub(swap, out)
    return out, applied
