"""Undo the tricks people use to slip words past moderation, before any layer runs.

``normalise`` returns views of a text that layers match against, each with a map back to
the original characters so a finding can name the span the user actually typed:

- compatibility forms fold (fullwidth ``ｎｕｄｅ``, ligatures, superscripts), case folds,
  accents drop, and invisible characters (zero-width, bidi, soft hyphen) disappear;
- letters from other scripts that look Latin (Cyrillic ``а``, Greek ``ο``) become Latin
  inside words made only of Latin letters and look-alikes, so real Cyrillic text is kept;
- letters spaced or dotted apart (``s e x``, ``n.u.d.e``) join up;
- a second view reads leetspeak digits and symbols as letters (``n4k3d``, ``c0ca1ne``).
  It is a separate view so '100km' and 'mp4' are never rewritten in the first one.

Pure functions: no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Texts longer than this are moderated up to here and sent to review for the rest.
MAX_CHARS = 20_000

# Letters of other scripts that render like Latin ones (a small table, from Unicode's
# confusables.txt for the Cyrillic and Greek letters that matter in practice).
CONFUSABLES = {
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o",
    "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i",
    "ј": "j", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ɡ": "g", "һ": "h", "ո": "n", "ս": "u",
    "α": "a", "β": "b", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x", "γ": "y", "ω": "w", "ı": "i",
}  # fmt: skip
LEET = {
    "0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g",
    "@": "a", "$": "s", "!": "i", "|": "l", "€": "e", "+": "t",
}  # fmt: skip
# Characters that never show but split words: zero-width space/joiners, word joiner,
# soft hyphen, BOM, bidi marks, variation selectors, tag characters.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\U000e0000-\U000e007f]"
)
_WORD = re.compile(r"\w+")
# Three or more single characters with separators between them: "s e x", "n.u.d.e".
_SPACED = re.compile(r"(?<!\w)\w(?:[\s.\-_*·•/|,']{1,3}\w(?!\w)){2,}")
_LEET_TOKEN = re.compile(r"[\w@$!|€+]+")


@dataclass(frozen=True)
class View:
    """A normalised reading of the text; ``offsets[i]`` is where ``text[i]`` came from."""

    text: str
    offsets: tuple[int, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original text's span for ``text[start:end]``."""
        if not self.offsets:
            return (0, 0)
        lo = self.offsets[min(start, len(self.offsets) - 1)]
        hi = self.offsets[min(max(end - 1, start), len(self.offsets) - 1)] + 1
        return (lo, hi)


@dataclass(frozen=True)
class Normalised:
    original: str
    views: tuple[View, ...]
    tricks: frozenset[str]
    truncated: bool

    @property
    def text(self) -> str:
        """The plain view (no leetspeak reading)."""
        return self.views[0].text


def _fold(text: str, tricks: set[str]) -> tuple[list[str], list[int]]:
    chars: list[str] = []
    offsets: list[int] = []
    for i, c in enumerate(text):
        if _INVISIBLE.match(c):
            tricks.add("invisible characters")
            continue
        if c.isspace():
            chars.append(" ")
            offsets.append(i)
            continue
        compat = unicodedata.normalize("NFKC", c)
        if compat != c and compat.isascii():
            tricks.add("compatibility forms")
        for d in unicodedata.normalize("NFKD", compat):
            if unicodedata.combining(d):
                continue
            for folded in d.casefold():
                chars.append(folded)
                offsets.append(i)
    return chars, offsets


def _unconfuse(chars: list[str], tricks: set[str]) -> None:
    text = "".join(chars)
    latin = sum(c.isascii() and c.isalpha() for c in text)
    mostly_latin = latin > sum(c.isalpha() and not c.isascii() for c in text)
    for m in _WORD.finditer(text):
        word = m.group()
        if not any(c in CONFUSABLES for c in word):
            continue
        if not all(c.isascii() or c in CONFUSABLES for c in word):
            continue
        if any(c.isascii() and c.isalpha() for c in word):
            tricks.add("mixed scripts")
        elif mostly_latin:  # a whole word of look-alikes in Latin text: 'ѕех on the beach'
            tricks.add("look-alike letters")
        else:  # real Cyrillic or Greek text
            continue
        for j in range(m.start(), m.end()):
            chars[j] = CONFUSABLES.get(chars[j], chars[j])


def _join_spaced(chars: list[str], offsets: list[int], tricks: set[str]) -> None:
    """Join 's e x' and 'n.u.d.e'. Word gaps survive as one space: a plain space between
    dotted letters ('E.l.o.n M.u.s.k'), or a double space between spaced ones
    ('m a s s  s h o o t i n g')."""
    text = "".join(chars)
    drop: set[int] = set()
    for m in _SPACED.finditer(text):
        tricks.add("spaced letters")
        gaps = list(re.finditer(r"[^\w]+", m.group()))
        dotted = any(not g.group().isspace() for g in gaps)
        # 'a M i c k e y': the English one-letter words 'a' and 'I' often lead into a run.
        lead = m.group()[0] in "ai" and gaps[0].group() == " " and len(gaps) >= 4
        for n, g in enumerate(gaps):
            sep = g.group()
            word_gap = sep.isspace() and (dotted or len(sep) > 1 or (lead and n == 0))
            lo, hi = m.start() + g.start(), m.start() + g.end()
            drop.update(range(lo + 1, hi) if word_gap else range(lo, hi))
    if drop:
        kept = [
            (c, o) for j, (c, o) in enumerate(zip(chars, offsets, strict=True)) if j not in drop
        ]
        chars[:] = [c for c, _ in kept]
        offsets[:] = [o for _, o in kept]


def _squeeze(chars: list[str], offsets: list[int]) -> tuple[str, tuple[int, ...]]:
    out_c: list[str] = []
    out_o: list[int] = []
    for c, o in zip(chars, offsets, strict=True):
        if c == " " and (not out_c or out_c[-1] == " "):
            continue
        out_c.append(c)
        out_o.append(o)
    if out_c and out_c[-1] == " ":
        out_c.pop()
        out_o.pop()
    return "".join(out_c), tuple(out_o)


def _leet(chars: list[str]) -> list[str] | None:
    """Read digits and symbols as letters inside words that have at least two letters."""
    text = "".join(chars)
    out = list(chars)
    changed = False
    for m in _LEET_TOKEN.finditer(text):
        token = m.group()
        letters = sum(c.isalpha() for c in token)
        if letters < 2 or not any(c in LEET for c in token):
            continue
        for j in range(m.start(), m.end()):
            c = text[j]
            if c not in LEET:
                continue
            # Symbols count only inside a word: 'cheap!' keeps its exclamation mark.
            inner = m.start() < j < m.end() - 1
            if c.isdigit() or inner:
                out[j] = LEET[c]
                changed = True
    return out if changed else None


def normalise(text: str) -> Normalised:
    """The views of ``text`` every text layer matches against (see the module docstring)."""
    tricks: set[str] = set()
    truncated = len(text) > MAX_CHARS
    text = text[:MAX_CHARS]
    chars, offsets = _fold(text, tricks)
    _unconfuse(chars, tricks)
    _join_spaced(chars, offsets, tricks)
    views = [View(*_squeeze(chars, offsets))]
    leet = _leet(chars)  # after joining, so 'c 0 c a i n e' reads as one word
    if leet is not None:
        view = View(*_squeeze(leet, offsets))
        if view.text != views[0].text:
            tricks.add("leetspeak")
            views.append(view)
    return Normalised(
        original=text, views=tuple(views), tricks=frozenset(tricks), truncated=truncated
    )
