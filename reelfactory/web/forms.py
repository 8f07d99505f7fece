"""The brief form, as data: form fields -> the ``Brief`` payload, and errors -> form fields.

Pure: no request, no database. The same ``Brief`` model validates the form, the JSON API
and the flow; this module only maps between HTML field names and the model's fields.

Field names are the model's, except:

- ``aspect_ratios`` is a repeated checkbox;
- ``steps`` and ``mandatory_elements`` are textareas, one entry per line;
- localised copy sits in numbered slots ``tr1_lang``, ``tr1_title``, ``tr1_message``,
  ``tr1_call_to_action``, ``tr1_steps`` (``tr2_...``): every filled slot adds its language.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from reelfactory.errors import _short
from reelfactory.models import _CONTROL

TRANSLATION_SLOTS = 2
TEXT_FIELDS = (
    "brand",
    "format",
    "campaign",
    "title",
    "message",
    "audience",
    "call_to_action",
    "tone",
    "duration_s",
    "language",
    "steps",
    "mandatory_elements",
)
SLOT_FIELDS = ("lang", "title", "message", "call_to_action", "steps")
ROOT = "__root__"

FormValues = dict[str, Any]


def form_values(form: Mapping[str, str | Sequence[str]]) -> FormValues:
    """What the user typed, as the template shows it back: strings, ratios as a list."""
    values: FormValues = {}
    for name in TEXT_FIELDS + tuple(
        f"tr{i}_{f}" for i in range(1, TRANSLATION_SLOTS + 1) for f in SLOT_FIELDS
    ):
        raw = form.get(name, "")
        text = raw if isinstance(raw, str) else (raw[0] if raw else "")
        # Control and bidi-override characters never reach the model or the page shown back
        # (the model strips them too); line breaks and tabs stay for the textareas.
        values[name] = _CONTROL.sub("", text)
    ratios = form.get("aspect_ratios", [])
    values["aspect_ratios"] = [ratios] if isinstance(ratios, str) else list(ratios)
    return values


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _blank_to_none(text: str) -> str | None:
    return text if text.strip() else None


def brief_payload(values: FormValues, *, submitted_by: str) -> dict[str, Any]:
    """The ``Brief`` payload for ``Brief.model_validate``. ``submitted_by`` is the signed-in
    user, never a form field."""
    payload: dict[str, Any] = {
        "brand": values["brand"],
        "format": values["format"],
        "title": values["title"],
        "message": values["message"],
        "audience": values["audience"],
        "call_to_action": values["call_to_action"],
        "duration_s": values["duration_s"] or None,
        "aspect_ratios": values["aspect_ratios"],
        "language": values["language"] or "en",
        "submitted_by": submitted_by,
        "steps": _lines(values["steps"]),
        "mandatory_elements": _lines(values["mandatory_elements"]),
    }
    if values["campaign"].strip():
        payload["campaign"] = values["campaign"].strip()
    if tone := _blank_to_none(values["tone"]):
        payload["tone"] = tone
    translations: dict[str, Any] = {}
    for i in range(1, TRANSLATION_SLOTS + 1):
        lang = values[f"tr{i}_lang"].strip()
        if not lang:
            continue
        translations[lang] = {
            "title": values[f"tr{i}_title"],
            "message": values[f"tr{i}_message"],
            "call_to_action": values[f"tr{i}_call_to_action"],
            "steps": _lines(values[f"tr{i}_steps"]),
        }
    if translations:
        payload["translations"] = translations
        payload["languages"] = [payload["language"], *translations]
    return payload


def _slot_of(values: FormValues, lang: object) -> int | None:
    for i in range(1, TRANSLATION_SLOTS + 1):
        if values.get(f"tr{i}_lang", "").strip() == lang:
            return i
    return None


def field_for(loc: Sequence[str | int], values: FormValues) -> str:
    """The form field a model error location belongs to."""
    if not loc:
        return ROOT
    head = str(loc[0])
    if head == "translations" and len(loc) >= 2:
        slot = _slot_of(values, loc[1])
        if slot is not None:
            sub = str(loc[2]) if len(loc) >= 3 else "lang"
            return f"tr{slot}_{sub if sub in SLOT_FIELDS else 'lang'}"
        return ROOT
    if head in TEXT_FIELDS or head == "aspect_ratios":
        return head
    if head == "languages":
        return "language"
    return ROOT


def validation_errors(exc: ValidationError, values: FormValues) -> dict[str, list[str]]:
    """Pydantic errors by form field, each naming what was wrong and the value entered."""
    out: dict[str, list[str]] = {}
    for err in exc.errors():
        field = field_for(err["loc"], values)
        if err["type"] == "missing":
            text = "required"
        else:
            text = err["msg"].removeprefix("Value error, ")
            if field != ROOT and err.get("input") not in (None, ""):
                text += f" (got {_short(err.get('input'))})"
        out.setdefault(field, []).append(text)
    return out


def problem_errors(problems: Sequence[str], values: FormValues) -> dict[str, list[str]]:
    """``InputError`` lines ('duration_s: ... ', 'translations.de.steps: ...') by form field."""
    out: dict[str, list[str]] = {}
    for line in problems:
        where, sep, text = line.partition(": ")
        loc: list[str | int] = [p for p in where.split(".")] if sep else []
        field = field_for(loc, values) if sep else ROOT
        out.setdefault(field, []).append(text if sep and field != ROOT else line)
    return out
