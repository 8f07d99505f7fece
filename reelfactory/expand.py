"""Brief + brand kit + format -> ShotList: the "recaptioning" stage.

A marketer's two-line brief becomes one detailed, structured shot direction per shot
(subject, action, setting, framing, movement, lighting, lens), composed into a prompt with the
brand's palette and style words, with per-ratio framing hints, a negative prompt, captions
from the brief's own copy, exact frame timing and a deterministic seed.

Who writes the directions is an ``Expander``: the Jinja2 template expander is the default
(``reelfactory.llm`` holds an optional LLM one). Everything else here is the same for both,
so their output goes through the same validation and rewriting. Pure, apart from reading the
format's template file.

Templates render in a ``SandboxedEnvironment`` with brief text only ever passed as data, so
``{{ 7*7 }}`` typed into a brief comes out literally.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Protocol

from jinja2 import FileSystemLoader, StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import ValidationError

from reelfactory.edit.timeline import overhead_frames
from reelfactory.errors import InputError, problems_from
from reelfactory.formats import SHOT_TEMPLATE, Format
from reelfactory.models import (
    AspectRatio,
    BrandKit,
    Brief,
    Palette,
    Rewrite,
    Shot,
    ShotCopy,
    ShotDirection,
    ShotList,
)
from reelfactory.render import ClipLimits
from reelfactory.rewrite import rewrite_text, rules_for

# Always negative, whatever the format or brand: artefacts no brand wants, and other
# people's marks.
DEFAULT_NEGATIVE = (
    "watermark",
    "garbled text",
    "third-party logos",
    "distorted faces",
    "extra fingers",
)


# --------------------------------------------------------------------------- slots and timing


@dataclass(frozen=True)
class Slot:
    """One shot position in a format, resolved against a brief (repeats expanded)."""

    index: int
    role: str
    name: str
    weight: float
    caption: str
    step: int | None  # 0-based step for repeated shots
    lower_third: str
    framing: dict[AspectRatio, str]


def slots_for(brief: Brief, fmt: Format) -> list[Slot]:
    """The format's shots, with ``repeat: steps`` expanded to one shot per brief step."""
    if fmt.steps is not None:
        n = len(brief.steps)
        lo, hi = int(fmt.steps.min), int(fmt.steps.max)
        if not lo <= n <= hi:
            raise InputError(
                "brief", [f"steps: the {fmt.id!r} format needs {lo}-{hi} steps (got {n})"]
            )
    slots: list[Slot] = []
    for spec in fmt.shots:
        repeats = range(len(brief.steps)) if spec.repeat == "steps" else [None]
        for step in repeats:
            slots.append(
                Slot(
                    index=len(slots),
                    role=spec.role,
                    name=spec.role if step is None else f"{spec.role}-{step + 1}",
                    weight=spec.weight,
                    caption=spec.caption,
                    step=step,
                    framing={**fmt.framing, **spec.framing},
                    lower_third=spec.lower_third,
                )
            )
    return slots


def frame_bounds(fmt: Format, limits: ClipLimits) -> tuple[int, int]:
    """Per-shot frame bounds: the format's shot length rules within the renderer's."""
    fps = fmt.timing.fps
    lo = max(math.ceil(fmt.timing.shot_s.min * fps - 1e-9), limits.min_frames)
    hi = min(math.floor(fmt.timing.shot_s.max * fps + 1e-9), limits.max_frames)
    return lo, hi


def supported_durations(
    fmt: Format, shots: int, limits: ClipLimits, overhead: int = 0
) -> tuple[float, float]:
    """The total durations (seconds) this format can make with ``shots`` shots, when the
    edit adds ``overhead`` frames (brand cards less crossfade overlaps) to them."""
    lo, hi = frame_bounds(fmt, limits)
    fps = fmt.timing.fps
    return max(fmt.timing.duration_s.min, (shots * lo + overhead) / fps), min(
        fmt.timing.duration_s.max, (shots * hi + overhead) / fps
    )


def total_frames(
    brief: Brief, fmt: Format, shots: int, limits: ClipLimits, overhead: int = 0
) -> int:
    """The brief's duration in output frames, or an error saying which durations work."""
    fps = fmt.timing.fps
    lo_s, hi_s = supported_durations(fmt, shots, limits, overhead)
    frames = brief.duration_s * fps
    if lo_s > hi_s:
        raise InputError(
            "brief",
            [f"format: {fmt.id!r} cannot make {shots} shots with this renderer's clip lengths"],
        )
    if not lo_s - 1e-9 <= brief.duration_s <= hi_s + 1e-9:
        raise InputError(
            "brief",
            [
                f"duration_s: {brief.duration_s:g} s does not fit {fmt.id!r}, which supports "
                f"{lo_s:g}-{hi_s:g} s with {shots} shots"
            ],
        )
    if abs(frames - round(frames)) > 1e-6:
        raise InputError(
            "brief",
            [
                f"duration_s: {brief.duration_s:g} s is not a whole number of frames at "
                f"{fps} fps (use a multiple of 1/{fps} s)"
            ],
        )
    return round(frames)


def allocate_frames(total: int, weights: list[float], lo: int, hi: int | None = None) -> list[int]:
    """Split ``total`` frames by ``weights``, each share within ``[lo, hi]``.

    Shares that would exceed ``hi`` are capped and the rest is shared again among the others;
    the final split is by largest remainder. The result always sums to ``total`` exactly.
    """
    n = len(weights)
    cap = total if hi is None else hi
    if not n * lo <= total <= n * cap:
        raise ValueError(f"{total} frames cannot be {n} shots of {lo}-{cap} frames")
    counts = [lo] * n
    spare = total - n * lo
    active = list(range(n))
    while spare:
        scale = sum(weights[i] for i in active)
        exact = {i: spare * weights[i] / scale for i in active}
        full = [i for i in active if exact[i] >= cap - lo]
        if full:
            for i in full:
                counts[i] = cap
                spare -= cap - lo
                active.remove(i)
            continue
        floors = {i: int(exact[i]) for i in active}
        left = spare - sum(floors.values())
        order = sorted(active, key=lambda i: (floors[i] - exact[i], i))
        for i in active:
            counts[i] += floors[i]
        for i in order[:left]:
            counts[i] += 1
        spare = 0
    return counts


def shot_seed(brief_id: str, index: int) -> int:
    """Deterministic per-shot seed, so a re-run of the same brief renders the same pixels."""
    digest = hashlib.sha256(f"{brief_id}:{index}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


# --------------------------------------------------------------------------- directions


@dataclass(frozen=True)
class Directions:
    shots: list[ShotDirection]
    by: str  # which expander wrote them, for the shot list's record


class Expander(Protocol):
    """Writes the direction of every shot. The rest of the shot list is decided here."""

    name: str

    def directions(
        self, brief: Brief, kit: BrandKit, fmt: Format, slots: list[Slot], frames: list[int]
    ) -> Directions: ...


# A small colour vocabulary: video models follow "burnt orange" better than "#e07a2f".
COLOUR_NAMES = {
    "black": (0, 0, 0),
    "charcoal": (54, 69, 79),
    "espresso brown": (40, 26, 20),
    "deep brown": (101, 67, 33),
    "tan": (210, 180, 140),
    "cream": (242, 228, 200),
    "ivory": (255, 250, 235),
    "white": (255, 255, 255),
    "grey": (128, 128, 128),
    "silver": (192, 192, 192),
    "red": (200, 30, 30),
    "burgundy": (128, 0, 32),
    "burnt orange": (204, 85, 0),
    "orange": (240, 130, 40),
    "amber": (255, 191, 0),
    "yellow": (255, 220, 0),
    "olive": (128, 128, 0),
    "green": (40, 160, 60),
    "forest green": (34, 85, 50),
    "teal": (0, 128, 128),
    "sky blue": (135, 206, 235),
    "royal blue": (30, 70, 160),
    "navy": (10, 30, 80),
    "midnight blue": (10, 20, 45),
    "purple": (110, 50, 150),
    "lavender": (200, 180, 230),
    "pink": (240, 150, 180),
    "magenta": (200, 0, 120),
}


def colour_name(hex_colour: str) -> str:
    rgb = tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return min(
        COLOUR_NAMES,
        key=lambda n: sum((a - b) ** 2 for a, b in zip(rgb, COLOUR_NAMES[n], strict=True)),
    )


def palette_words(palette: Palette) -> str:
    names = [colour_name(c) for c in (palette.primary, palette.accent, palette.secondary)]
    return ", ".join(dict.fromkeys(names))


def one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def template_context(
    brief: Brief, kit: BrandKit, slot: Slot, n_slots: int, frames: int, fps: int
) -> dict[str, Any]:
    """What a shot template sees. Brief text is data here; it is never template source."""
    copy = brief.copy_in(brief.language)
    return {
        "brief": brief.model_dump(mode="json"),
        "brand": {
            "name": kit.name,
            "tone_words": kit.tone_words,
            "visual_style": kit.visual_style,
            "palette": kit.palette.model_dump(),
            "palette_words": palette_words(kit.palette),
        },
        "shot": {
            "role": slot.role,
            "name": slot.name,
            "index": slot.index,
            "number": slot.index + 1,
            "count": n_slots,
            "duration_s": round(frames / fps, 3),
            "step": None if slot.step is None else copy.steps[slot.step],
            "step_number": None if slot.step is None else slot.step + 1,
        },
    }


@cache
def _environment(root: Path) -> SandboxedEnvironment:
    return SandboxedEnvironment(
        loader=FileSystemLoader(root),
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
    )


class TemplateExpander:
    """Directions from the format's ``shot.j2``: one macro per anatomy field."""

    name = "template"

    def directions(
        self, brief: Brief, kit: BrandKit, fmt: Format, slots: list[Slot], frames: list[int]
    ) -> Directions:
        where = str(fmt.root / SHOT_TEMPLATE)
        try:
            template = _environment(fmt.root).get_template(SHOT_TEMPLATE)
        except TemplateError as exc:
            raise InputError(where, [f"template error: {exc}"]) from None
        out = []
        for slot, n in zip(slots, frames, strict=True):
            context = template_context(brief, kit, slot, len(slots), n, fmt.timing.fps)
            fields: dict[str, str] = {}
            try:
                module = template.make_module(context)
                for field in ShotDirection.FIELDS:
                    macro = getattr(module, field, None)
                    if macro is None:
                        raise InputError(where, [f"{field}: the template defines no such macro"])
                    fields[field] = one_line(str(macro())).rstrip(".")
                out.append(ShotDirection.model_validate(fields))
            except TemplateError as exc:
                raise InputError(where, [f"template error: {exc}"]) from None
            except ValidationError as exc:
                raise InputError(where, problems_from(exc, prefix=f"{slot.name}.")) from None
        return Directions(shots=out, by=self.name)


# --------------------------------------------------------------------------- the shot list


def compose_prompt(
    d: ShotDirection, kit: BrandKit, *, tone: str | None = None, must_show: Sequence[str] = ()
) -> str:
    """One detailed prompt from the direction, always in the same order.

    The brief's ``tone`` leads the mood; its mandatory elements close every prompt.
    """
    style = "; ".join(kit.visual_style)
    look = f"{d.lens}; {style}" if style else d.lens
    mood = ", ".join([*([one_line(tone)] if tone else []), *kit.tone_words])
    prompt = (
        f"{d.subject}, {d.action}. Setting: {d.setting}. "
        f"Camera: {d.framing}, {d.movement}. Lighting: {d.lighting}. "
        f"Lens and look: {look}. Brand palette: {palette_words(kit.palette)}. "
        f"Mood: {mood}."
    )
    if must_show:
        prompt += f" Must show: {', '.join(one_line(e) for e in must_show)}."
    return prompt


def negative_prompt(fmt: Format, kit: BrandKit) -> str:
    terms = [*DEFAULT_NEGATIVE, *fmt.negative_prompt, *kit.never_show]
    return ", ".join(dict.fromkeys(t.strip() for t in terms if t.strip()))


def _copy_for(brief: Brief, slot: Slot, language: str) -> ShotCopy:
    copy = brief.copy_in(language)
    if slot.caption == "step":
        assert slot.step is not None
        caption = copy.steps[slot.step]
    elif slot.caption == "none":
        caption = ""
    else:
        caption = str(getattr(copy, slot.caption))
    strap = "" if slot.lower_third == "none" else str(getattr(copy, slot.lower_third))
    return ShotCopy(
        caption=caption, voice_over=copy.voice_over.get(slot.name, ""), lower_third=strap
    )


def _check_voice_over(brief: Brief, slots: list[Slot]) -> None:
    names = [s.name for s in slots]
    problems = [
        f"{prefix}voice_over.{key}: no shot of that name (shots: {', '.join(names)})"
        for prefix, copy in [("", brief.copy_in(brief.language))]
        + [(f"translations.{lang}.", c) for lang, c in brief.translations.items()]
        for key in copy.voice_over
        if key not in names
    ]
    if problems:
        raise InputError("brief", problems)


def expand(
    brief: Brief,
    kit: BrandKit,
    fmt: Format,
    *,
    limits: ClipLimits,
    expander: Expander | None = None,
    rewrite: bool = True,
) -> ShotList:
    """The brief's shot list: with the brand's cards and transitions, the cut lasts exactly
    the brief's duration, and every shot's frame count is within bounds.

    Raises:
        InputError: a duration, step count or voice-over the format cannot take.
    """
    slots = slots_for(brief, fmt)
    _check_voice_over(brief, slots)
    lo, hi = frame_bounds(fmt, limits)
    overhead = overhead_frames(kit.edit, len(slots), fmt.timing.fps)
    total = total_frames(brief, fmt, len(slots), limits, overhead)
    frames = allocate_frames(total - overhead, [s.weight for s in slots], lo, hi)
    writer = expander or TemplateExpander()
    directions = writer.directions(brief, kit, fmt, slots, frames)

    rules = rules_for(kit) if rewrite else ()
    rewrites: list[Rewrite] = []
    negative = negative_prompt(fmt, kit)
    shots = []
    for slot, n, direction in zip(slots, frames, directions.shots, strict=True):
        fields = {}
        for field in ShotDirection.FIELDS:
            text, applied = rewrite_text(
                getattr(direction, field), rules, shot_index=slot.index, field=f"direction.{field}"
            )
            fields[field] = text
            rewrites += applied
        final = ShotDirection.model_validate(fields)
        localized = {lang: _copy_for(brief, slot, lang) for lang in brief.languages}
        primary = localized[brief.languages[0]]
        shots.append(
            Shot(
                index=slot.index,
                role=slot.role,
                name=slot.name,
                direction=final,
                prompt=compose_prompt(
                    final, kit, tone=brief.tone, must_show=brief.mandatory_elements
                ),
                negative_prompt=negative,
                framing_hints=slot.framing,
                caption=primary.caption,
                voice_over=primary.voice_over,
                lower_third=primary.lower_third,
                localized=localized,
                frames=n,
                fps=fmt.timing.fps,
                seed=shot_seed(brief.brief_id, slot.index),
            )
        )
    return ShotList(
        brief_id=brief.brief_id,
        brand=kit.id,
        format=fmt.id,
        fps=fmt.timing.fps,
        language=brief.languages[0],
        languages=brief.languages,
        caption_style=fmt.caption_style,
        expander=directions.by,
        call_to_action=brief.copy_in(brief.languages[0]).call_to_action,
        edit_frames=overhead,
        shots=shots,
        rewrites=rewrites,
    )
