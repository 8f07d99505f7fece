"""Text layers: blocklists, brand rules, profanity, a hosted endpoint, and the runner.

Every layer takes the whole batch of ``TextItem``s (the fields of a brief, the prompts of a
shot list) and returns ``Signal``s; ``run_layers`` calls them with a time limit and turns
an exception or a timeout into a ``LayerFailure`` (which the policy makes a review).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from functools import cache, cached_property
from importlib import resources
from typing import Any, Protocol, TypeVar

import yaml

from reelfactory.models import BrandKit, Category
from reelfactory.moderation.normalize import MAX_CHARS, Normalised, View, normalise
from reelfactory.moderation.policy import LayerFailure, Signal

EXCERPT_RADIUS = 30
BLOCK_SCORE = 1.0
# Above every default review threshold and below every default block threshold.
REVIEW_SCORE = 0.6


@dataclass(frozen=True)
class TextItem:
    """One piece of text to moderate, where it came from ('brief.message') and its language."""

    field: str
    text: str
    language: str = "en"
    # Layers that read meaning (the semantic one) read items of one group together, as one
    # text named by the group: a call to action is judged with the message it belongs to.
    group: str | None = None

    @property
    def unit(self) -> str:
        return self.group or self.field

    @cached_property
    def normalised(self) -> Normalised:
        return normalise(self.text)

    def excerpt(self, span: tuple[int, int]) -> str:
        lo, hi = max(0, span[0] - EXCERPT_RADIUS), span[1] + EXCERPT_RADIUS
        return self.text[lo:hi]


class Layer(Protocol):
    """What every moderation layer (text or frames) has: a name and a way to load."""

    @property
    def name(self) -> str: ...

    def load(self) -> None:
        """Import and load models. Called in one thread, before any ``scan``."""
        ...


class TextLayer(Layer, Protocol):
    def scan(self, items: Sequence[TextItem]) -> list[Signal]: ...


def _term(term: str) -> str:
    """A term as a regex: words may run together or be spaced ('elonmusk', 'elon  musk'),
    a hyphen may be a space or missing ('risk-free', 'risk free', 'riskfree')."""
    words = [re.escape(normalise(w).text).replace(r"\-", r"[\s\-]?") for w in term.split()]
    return r"\s*".join(words)


def terms_pattern(terms: Iterable[str]) -> re.Pattern[str] | None:
    """One regex for many terms: whole words with an optional plural s/es."""
    bodies = sorted({_term(t) for t in terms if t.strip()}, key=len, reverse=True)
    if not bodies:
        return None
    return re.compile(rf"(?<!\w)(?:{'|'.join(bodies)})(?:e?s)?(?!\w)")


@dataclass(frozen=True)
class TermList:
    category: Category
    score: float
    pattern: re.Pattern[str]
    allow: re.Pattern[str] | None = None

    def matches(self, view: View) -> Iterable[tuple[str, tuple[int, int]]]:
        allowed = [m.span() for m in self.allow.finditer(view.text)] if self.allow else []
        for m in self.pattern.finditer(view.text):
            if any(lo <= m.start() and m.end() <= hi for lo, hi in allowed):
                continue
            yield m.group(), view.span(*m.span())


@dataclass(frozen=True)
class Blocklist:
    """Terms per category, matched on every normalised view of every item."""

    name: str
    lists: tuple[TermList, ...]
    presence: re.Pattern[str] | None = None  # minors-present terms (tighten, not a finding)

    def load(self) -> None:
        pass

    def scan(self, items: Sequence[TextItem]) -> list[Signal]:
        out: list[Signal] = []
        for item in items:
            seen: set[tuple[Category, tuple[int, int]]] = set()
            for view in item.normalised.views:
                for terms in self.lists:
                    for term, span in terms.matches(view):
                        if (terms.category, span) in seen:
                            continue
                        seen.add((terms.category, span))
                        out.append(self._signal(item, terms.category, terms.score, term, span))
                if self.presence is not None:
                    for m in self.presence.finditer(view.text):
                        span = view.span(*m.span())
                        out.append(
                            Signal(
                                layer=self.name,
                                category=Category.MINORS,
                                score=1.0,
                                field=item.field,
                                evidence=m.group(),
                                span=span,
                                presence=True,
                            )
                        )
        return out

    def _signal(
        self, item: TextItem, category: Category, score: float, term: str, span: tuple[int, int]
    ) -> Signal:
        tricks = item.normalised.tricks
        note = f" (after undoing {', '.join(sorted(tricks))})" if tricks else ""
        return Signal(
            layer=self.name,
            category=category,
            score=score,
            field=item.field,
            evidence=term + note,
            span=span,
            excerpt=item.excerpt(span),
        )


def _compile_lists(data: Mapping[str, Any]) -> tuple[tuple[TermList, ...], re.Pattern[str] | None]:
    lists: list[TermList] = []
    presence = None
    for key, entry in data.items():
        if key == "minors-present":
            presence = terms_pattern(entry)
            continue
        category = Category(key)
        allow = terms_pattern(entry.get("allow", []))
        for level, score in (("block", BLOCK_SCORE), ("review", REVIEW_SCORE)):
            pattern = terms_pattern(entry.get(level, []))
            if pattern is not None:
                lists.append(TermList(category, score, pattern, allow))
    return tuple(lists), presence


@cache
def builtin_blocklist() -> Blocklist:
    """reelfactory/data/blocklist.yaml, compiled once per process."""
    text = resources.files("reelfactory").joinpath("data/blocklist.yaml").read_text("utf-8")
    lists, presence = _compile_lists(yaml.safe_load(text))
    return Blocklist("blocklist:builtin", lists, presence)


@dataclass(frozen=True)
class BrandRules:
    """A kit's own rules: banned terms and competitors block; a claim without its disclaimer
    in the same document goes to review; a missing mandatory legal line goes to review."""

    kit: BrandKit
    require_legal_line: bool = False

    @property
    def name(self) -> str:
        return f"brand-rules:{self.kit.id}"

    def load(self) -> None:
        pass

    @cached_property
    def _terms(self) -> Blocklist:
        rules = self.kit.moderation
        lists = []
        for terms in (self.kit.banned_terms, rules.competitors):
            pattern = terms_pattern(terms)
            if pattern is not None:
                lists.append(TermList(Category.BRAND_RULES, BLOCK_SCORE, pattern))
        return Blocklist(self.name, tuple(lists))

    def scan(self, items: Sequence[TextItem]) -> list[Signal]:
        out = self._terms.scan(items)
        rules = self.kit.moderation
        document = " ".join(v.text for i in items for v in i.normalised.views)
        for rule in rules.claims:
            pattern = terms_pattern([rule.claim])
            if pattern is None or normalise(rule.disclaimer).text in document:
                continue
            for item in items:
                for view in item.normalised.views[:1]:
                    for m in pattern.finditer(view.text):
                        span = view.span(*m.span())
                        out.append(
                            Signal(
                                layer=self.name,
                                category=Category.BRAND_RULES,
                                score=REVIEW_SCORE,
                                field=item.field,
                                evidence=f"claim {rule.claim!r} without disclaimer "
                                f"{rule.disclaimer!r}",
                                span=span,
                                excerpt=item.excerpt(span),
                            )
                        )
        if (
            self.require_legal_line
            and rules.legal_line
            and normalise(rules.legal_line).text not in document
        ):
            out.append(
                Signal(
                    layer=self.name,
                    category=Category.BRAND_RULES,
                    score=REVIEW_SCORE,
                    field="brief",
                    evidence=f"mandatory legal line missing: {rules.legal_line!r}",
                )
            )
        return out


class Profanity:
    """alt-profanity-check's linear SVM (~3 ms a text): the profanity category."""

    name = "profanity-check"

    def load(self) -> None:
        import profanity_check  # noqa: F401  (imports scikit-learn, which may import torch)

    def scan(self, items: Sequence[TextItem]) -> list[Signal]:
        from profanity_check import predict_prob

        texts = [(item, view.text) for item in items for view in item.normalised.views]
        if not texts:
            return []
        probs = predict_prob([t for _, t in texts])
        best: dict[str, tuple[float, TextItem]] = {}
        for (item, _), p in zip(texts, probs, strict=True):
            if p > best.get(item.field, (-1.0, item))[0]:
                best[item.field] = (float(p), item)
        return [
            Signal(layer=self.name, category=Category.PROFANITY, score=p, field=f)
            for f, (p, _) in best.items()
        ]


# OpenAI's moderation categories (omni-moderation) mapped onto ours.
REMOTE_CATEGORIES = {
    "sexual": Category.SEXUAL,
    "sexual/minors": Category.MINORS,
    "violence": Category.VIOLENCE,
    "violence/graphic": Category.VIOLENCE,
    "self-harm": Category.SELF_HARM,
    "self-harm/intent": Category.SELF_HARM,
    "self-harm/instructions": Category.SELF_HARM,
    "hate": Category.HATE,
    "hate/threatening": Category.HATE,
    "harassment": Category.HATE,
    "harassment/threatening": Category.HATE,
    "illicit": Category.DRUGS,
    "illicit/violent": Category.WEAPONS,
}


@dataclass(frozen=True)
class RemoteModeration:
    """A hosted moderation endpoint speaking OpenAI's ``POST /moderations``. Off by default."""

    base_url: str
    model: str
    api_key: str | None = field(default=None, repr=False)
    timeout_s: float = 10.0
    name: str = "remote"

    def load(self) -> None:
        import httpx  # noqa: F401

    def scan(self, items: Sequence[TextItem]) -> list[Signal]:
        import httpx

        if not items:
            return []
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        response = httpx.post(
            f"{self.base_url.rstrip('/')}/moderations",
            json={"model": self.model, "input": [i.normalised.text for i in items]},
            headers=headers,
            timeout=self.timeout_s,
        )
        response.raise_for_status()
        results = response.json()["results"]
        if len(results) != len(items):
            raise ValueError(f"asked about {len(items)} texts, got {len(results)} results")
        out = []
        for item, result in zip(items, results, strict=True):
            best: dict[Category, tuple[float, str]] = {}
            for name, score in result["category_scores"].items():
                category = REMOTE_CATEGORIES.get(name)
                if category is not None and float(score) > best.get(category, (-1.0, ""))[0]:
                    best[category] = (float(score), name)
            out += [
                Signal(layer=self.name, category=c, score=s, field=item.field, evidence=n)
                for c, (s, n) in best.items()
            ]
        return out


L = TypeVar("L", bound=Layer)

# One process-wide pool: a call costs one hand-off, not a pool. A layer that hangs keeps its
# worker; once every worker hangs, every call times out, which is a review (fail closed).
_POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix="moderation")


def _run_in_order(
    layers: Sequence[L], call: Callable[[L], list[Signal]], done: dict[str, list[Signal] | str]
) -> None:
    """Load every layer, then scan with each, one after the other, recording as it goes.

    Loads come first and in one thread: two threads importing torch for the first time at
    once fail. Scans are sequential too: on 2 cores the layers ran slower side by side
    (CPU-bound, sharing the GIL) than one after the other.
    """
    for layer in layers:
        try:
            layer.load()
        except Exception as exc:  # fail closed, below
            done[layer.name] = f"{type(exc).__name__}: {exc}"[:300]
    for layer in layers:
        if layer.name in done:
            continue
        try:
            done[layer.name] = call(layer)
        except Exception as exc:  # fail closed: any error is a review, never an allow
            done[layer.name] = f"{type(exc).__name__}: {exc}"[:300]


def run_layers(
    layers: Sequence[L],
    call: Callable[[L], list[Signal]],
    *,
    timeout_s: float,
) -> tuple[list[Signal], list[LayerFailure]]:
    """Load and call every layer within ``timeout_s``; a layer that raised, could not load
    or had not finished in time is a ``LayerFailure``, never an allow."""
    done: dict[str, list[Signal] | str] = {}
    future = _POOL.submit(_run_in_order, layers, call, done)
    with contextlib.suppress(FutureTimeout):
        future.result(timeout=timeout_s)
    results = dict(done)  # a snapshot: a timed-out run may still be writing
    signals: list[Signal] = []
    failures: list[LayerFailure] = []
    for layer in layers:
        outcome = results.get(layer.name, f"timed out after {timeout_s:g} s")
        if isinstance(outcome, str):
            failures.append(LayerFailure(layer.name, outcome))
        else:
            signals += outcome
    return signals, failures


def truncation_failures(items: Sequence[TextItem]) -> list[LayerFailure]:
    return [
        LayerFailure(
            "normalise",
            f"text is {len(i.text)} characters; only the first {MAX_CHARS} were moderated",
            i.field,
        )
        for i in items
        if i.normalised.truncated
    ]
