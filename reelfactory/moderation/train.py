"""Train the semantic layer: ``python -m reelfactory.moderation.train [TRAIN.jsonl] [--out F]``.

Embeds every labelled line with the bundled MiniLM encoder, fits a class-balanced softmax
regression (scikit-learn, installed with alt-profanity-check), prints a 5-fold
cross-validated recall and false-flag rate on the training set, and saves the weights.
The evaluation set (``eval.jsonl``) is never read here.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

from reelfactory.moderation.dataset import BENIGN, DEFAULT_TRAIN, load_dataset
from reelfactory.moderation.semantic import ENCODER, LinearModel, embed, weights_path

# Inverse regularisation strength, chosen by 5-fold cross-validation on the training set
# (C in 0.5-32, with and without class weights; an MLP and an RBF SVM did no better).
C = 32.0


def fit(x: np.ndarray, y: np.ndarray, seed: int = 0) -> tuple[list[str], np.ndarray, np.ndarray]:
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=C, max_iter=5000, random_state=seed)
    clf.fit(x, y)
    return [str(c) for c in clf.classes_], clf.coef_, clf.intercept_


def cross_validate(
    x: np.ndarray, y: np.ndarray, folds: int = 5, cuts: tuple[float, ...] = (0.2, 0.3, 0.5, 0.8)
) -> dict[str, dict[str, float]]:
    """Recall on disallowed lines and false flags on benign ones, for the semantic layer
    alone, at several cuts of its score (1 - P(benign)): what the default thresholds use."""
    rng = np.random.default_rng(0)
    order = rng.permutation(len(y))
    unsafe = np.zeros(len(y))
    for k in range(folds):
        test = order[k::folds]
        train = np.setdiff1d(order, test)
        classes, coef, intercept = fit(x[train], y[train])
        model = LinearModel(tuple(classes), coef, intercept, ENCODER, "")
        unsafe[test] = 1.0 - model.probabilities(x[test])[:, classes.index(BENIGN)]
    truth = y != BENIGN
    out = {}
    for cut in cuts:
        flagged = unsafe >= cut
        out[str(cut)] = {
            "recall": round(float((flagged & truth).sum() / max(1, truth.sum())), 4),
            "false_flag_rate": round(float((flagged & ~truth).sum() / max(1, (~truth).sum())), 4),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", nargs="?", type=Path, default=DEFAULT_TRAIN)
    parser.add_argument("--out", type=Path, default=weights_path())
    args = parser.parse_args(argv)

    rows = load_dataset(args.dataset)
    print(f"embedding {len(rows)} lines from {args.dataset}", file=sys.stderr)
    x = embed([r.text for r in rows])
    y = np.array([str(r.category) for r in rows])
    print("5-fold cross-validation...", file=sys.stderr)
    cv = cross_validate(x, y)
    classes, coef, intercept = fit(x, y)
    digest = hashlib.sha256(args.dataset.read_bytes()).hexdigest()
    LinearModel(
        tuple(classes), coef.astype(np.float32), intercept.astype(np.float32), ENCODER, digest
    ).save(args.out)
    print(json.dumps({"lines": len(rows), "classes": classes, "cv": cv, "out": str(args.out)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
