"""Errors a user can act on. Each names where the problem is, the field and the value."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

if TYPE_CHECKING:
    from reelfactory.models import ModerationReport


class ReelError(Exception):
    """Base for every error reelfactory reports to a user (exit code 2 in the CLI)."""


class InputError(ReelError):
    """Bad input: a brief, a brand kit or a template that cannot be used."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{source}:\n{lines}" if len(problems) > 1 else f"{source}: {problems[0]}")


class ModerationBlocked(ReelError):
    """Moderation blocked the brief, a shot prompt, or rendered frames."""

    def __init__(self, message: str, report: ModerationReport | None = None) -> None:
        super().__init__(message)
        self.report = report


class ApprovalRefused(ReelError):
    """A resume that does not count as a decision (unknown approver, missing decision...)."""


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def problems_from(exc: ValidationError, prefix: str = "") -> list[str]:
    """Turn a pydantic error into lines naming field and value."""
    out = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(root)"
        field = f"{prefix}{loc}"
        if err["type"] == "missing":
            out.append(f"{field}: required field is missing")
        else:
            msg = err["msg"].removeprefix("Value error, ")
            out.append(f"{field}: {msg} (got {_short(err.get('input'))})")
    return out
