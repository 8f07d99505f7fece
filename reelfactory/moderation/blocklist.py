"""Blocklist layer: built-in unsafe terms plus each brand kit's banned terms.

Matching is case-insensitive, unicode-normalised (NFKC + casefold) and on word boundaries,
so 'cheap' matches 'Cheap!' but not 'cheapskate'. Pure functions: no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property

from reelfactory.models import (
    BrandKit,
    Brief,
    ModerationFinding,
    ModerationReport,
    ShotList,
    Verdict,
)

# A deliberately small built-in list: the categories a brand never ships. The classifier
# layers (moderation issue) carry the real recall; this catches the unambiguous cases.
BUILTIN_BLOCKLIST: Mapping[str, tuple[str, ...]] = {
    "sexual": ("nude", "naked", "nudity", "porn", "pornographic", "explicit sex", "topless"),
    "minors-sexual": ("child porn", "underage sex"),
    "violence": ("gore", "beheading", "decapitated", "bloodbath", "massacre", "mutilated"),
    "self-harm": ("suicide", "self-harm", "kill yourself", "cutting herself", "cutting himself"),
    "hate": ("nazi", "white power", "ethnic cleansing"),
    "drugs": ("cocaine", "heroin", "methamphetamine", "crack pipe"),
    "weapons": ("assault rifle", "pipe bomb", "bomb-making"),
}

EXCERPT_RADIUS = 30


def normalise(text: str) -> str:
    """NFKC + casefold. Both preserve length for the scripts we meet often enough to
    keep spans aligned; where they would not, we fall back to the original text."""
    out = unicodedata.normalize("NFKC", text).casefold()
    return out if len(out) == len(text) else text.casefold()


@dataclass(frozen=True)
class Blocklist:
    layer: str
    terms: Mapping[str, tuple[str, ...]]  # category -> terms

    @cached_property
    def _patterns(self) -> list[tuple[str, str, re.Pattern[str]]]:
        out = []
        for category, terms in self.terms.items():
            for term in terms:
                body = r"\s+".join(re.escape(normalise(w)) for w in term.split())
                out.append((category, term, re.compile(rf"(?<!\w){body}(?!\w)")))
        return out

    def findings(self, field: str, text: str) -> list[ModerationFinding]:
        norm = normalise(text)
        found = []
        for category, term, pattern in self._patterns:
            for m in pattern.finditer(norm):
                lo, hi = max(0, m.start() - EXCERPT_RADIUS), m.end() + EXCERPT_RADIUS
                found.append(
                    ModerationFinding(
                        layer=self.layer,
                        category=category,
                        verdict=Verdict.BLOCK,
                        field=field,
                        term=term,
                        span=(m.start(), m.end()),
                        excerpt=text[lo:hi],
                    )
                )
        return found


def blocklists_for(kit: BrandKit) -> list[Blocklist]:
    lists = [Blocklist("blocklist:builtin", BUILTIN_BLOCKLIST)]
    if kit.banned_terms:
        lists.append(
            Blocklist(f"blocklist:brand:{kit.id}", {"brand-rules": tuple(kit.banned_terms)})
        )
    return lists


def scan(fields: Iterable[tuple[str, str]], lists: Iterable[Blocklist]) -> list[ModerationFinding]:
    lists = list(lists)
    return [f for name, text in fields for bl in lists for f in bl.findings(name, text)]


BRIEF_TEXT_FIELDS = ("title", "message", "audience", "call_to_action")


def moderate_brief(brief: Brief, kit: BrandKit) -> ModerationReport:
    fields = [(f"brief.{name}", str(getattr(brief, name))) for name in BRIEF_TEXT_FIELDS]
    fields += [(f"brief.steps[{i}]", step) for i, step in enumerate(brief.steps)]
    fields += [(f"brief.voice_over.{k}", v) for k, v in brief.voice_over.items()]
    for lang, copy in brief.translations.items():
        for name in ("title", "message", "call_to_action"):
            fields.append((f"brief.translations.{lang}.{name}", str(getattr(copy, name))))
        fields += [(f"brief.translations.{lang}.steps[{i}]", s) for i, s in enumerate(copy.steps)]
        fields += [
            (f"brief.translations.{lang}.voice_over.{k}", v) for k, v in copy.voice_over.items()
        ]
    return ModerationReport(
        subject=f"brief {brief.brief_id}", findings=scan(fields, blocklists_for(kit))
    )


def moderate_shots(
    shot_list: ShotList, kit: BrandKit, prior: ModerationReport | None = None
) -> ModerationReport:
    fields = []
    for shot in shot_list.shots:
        fields.append((f"shot[{shot.index}].prompt", shot.prompt))
        for lang, copy in shot.localized.items():
            fields.append((f"shot[{shot.index}].caption.{lang}", copy.caption))
            if copy.voice_over:
                fields.append((f"shot[{shot.index}].voice_over.{lang}", copy.voice_over))
    findings = list(prior.findings if prior else []) + scan(fields, blocklists_for(kit))
    return ModerationReport(subject=f"brief {shot_list.brief_id}", findings=findings)
