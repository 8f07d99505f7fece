"""Labelled moderation datasets: JSONL, one ``{"text", "expected", "category"}`` per line.

``brand`` is optional: it names the brand kit whose rules apply to that line.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from reelfactory.errors import InputError, problems_from
from reelfactory.models import Category, Verdict

BENIGN = "benign"
DATA = Path(str(resources.files("reelfactory").joinpath("data/moderation")))
DEFAULT_EVAL = DATA / "eval.jsonl"
DEFAULT_TRAIN = DATA / "train.jsonl"


class Labelled(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str = Field(min_length=1)
    expected: Verdict
    category: Category | str = Field(description="A Category value, or 'benign'.")
    brand: str | None = None

    @property
    def disallowed(self) -> bool:
        return self.expected is not Verdict.ALLOW


def load_dataset(path: Path) -> list[Labelled]:
    """Read and validate every line; errors name the file, line, field and value."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise InputError(str(path), ["file not found"]) from None
    rows: list[Labelled] = []
    problems: list[str] = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"line {n}: not valid JSON ({exc.msg})")
            continue
        try:
            row = Labelled.model_validate(data)
        except ValidationError as exc:
            problems += problems_from(exc, prefix=f"line {n}: ")
            continue
        if row.category != BENIGN and row.category not in set(Category):
            problems.append(f"line {n}: category: unknown category {row.category!r}")
        elif (row.category == BENIGN) != (row.expected is Verdict.ALLOW):
            problems.append(
                f"line {n}: expected: {row.expected.value!r} does not fit category "
                f"{row.category!r} (benign lines are 'allow', others are not)"
            )
        else:
            rows.append(row)
    if problems:
        more = [f"... and {len(problems) - 20} more"] if len(problems) > 20 else []
        raise InputError(str(path), problems[:20] + more)
    if not rows:
        raise InputError(str(path), ["no labelled lines"])
    return rows
