"""Brief + brand kit + format template -> ShotList.

Templates are Jinja2 rendered in a ``SandboxedEnvironment``. Brief text only ever enters as
template *data*, so ``{{ 7*7 }}`` typed into a brief comes out literally.
"""

from __future__ import annotations

import hashlib
import re
from functools import cache
from pathlib import Path
from typing import Literal

from jinja2 import FileSystemLoader, StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from reelfactory.brand import read_yaml
from reelfactory.errors import InputError, problems_from
from reelfactory.models import BrandKit, Brief, Shot, ShotList

FORMAT_FILE = "format.yaml"
SHOT_TEMPLATE = "shot.j2"


class DurationRange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min: float = Field(gt=0)
    max: float = Field(gt=0)


class ShotSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str
    weight: float = Field(gt=0, description="Share of the total duration, relative to siblings.")
    caption: Literal["title", "message", "call_to_action", "none"] = "none"


class Format(BaseModel):
    """A video format: the structure half of a template (the prose half is shot.j2)."""

    model_config = ConfigDict(extra="forbid")
    id: str
    name: str
    fps: int = Field(gt=0, le=60)
    duration_s: DurationRange
    min_shot_s: float = Field(gt=0)
    negative_prompt: list[str] = Field(default_factory=list)
    shots: list[ShotSpec] = Field(min_length=1)
    root: Path

    @model_validator(mode="after")
    def _fits(self) -> Format:
        if self.duration_s.min > self.duration_s.max:
            raise ValueError("duration_s.min is larger than duration_s.max")
        if self.min_shot_s * len(self.shots) > self.duration_s.min:
            raise ValueError("duration_s.min is too short for min_shot_s per shot")
        return self


def list_formats(templates_dir: Path) -> list[str]:
    return sorted(p.parent.name for p in templates_dir.glob(f"*/{FORMAT_FILE}"))


def load_format(templates_dir: Path, format_id: str) -> Format:
    folder = templates_dir / format_id
    path = folder / FORMAT_FILE
    if not path.is_file():
        known = ", ".join(list_formats(templates_dir)) or "none"
        raise InputError("brief", [f"format: unknown template {format_id!r} (known: {known})"])
    data = read_yaml(path)
    data["root"] = folder
    try:
        return Format.model_validate(data)
    except ValidationError as exc:
        raise InputError(str(path), problems_from(exc)) from None


@cache
def _environment(root: Path) -> SandboxedEnvironment:
    return SandboxedEnvironment(
        loader=FileSystemLoader(root),
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
    )


def allocate_frames(total: int, weights: list[float], minimum: int) -> list[int]:
    """Split ``total`` frames by ``weights`` (largest remainder), each at least ``minimum``.

    The result always sums to ``total`` exactly.
    """
    if minimum * len(weights) > total:
        raise ValueError(f"{total} frames cannot hold {len(weights)} shots of {minimum}+ frames")
    spare = total - minimum * len(weights)
    scale = sum(weights)
    exact = [spare * w / scale for w in weights]
    counts = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (counts[i] - exact[i], i))
    for i in order[: spare - sum(counts)]:
        counts[i] += 1
    return [minimum + c for c in counts]


def shot_seed(brief_id: str, index: int) -> int:
    """Deterministic per-shot seed, so a re-run of the same brief renders the same pixels."""
    digest = hashlib.sha256(f"{brief_id}:{index}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def expand(brief: Brief, kit: BrandKit, fmt: Format) -> ShotList:
    """Turn a brief into a shot list whose frame counts sum exactly to the brief's duration."""
    lo, hi = fmt.duration_s.min, fmt.duration_s.max
    if not lo <= brief.duration_s <= hi:
        raise InputError(
            "brief",
            [f"duration_s: {brief.duration_s:g} s is outside the {fmt.id!r} range {lo:g}-{hi:g} s"],
        )
    total = brief.duration_s * fmt.fps
    if abs(total - round(total)) > 1e-9:
        raise InputError(
            "brief",
            [
                f"duration_s: {brief.duration_s:g} s is not a whole number of frames "
                f"at {fmt.fps} fps"
            ],
        )
    frames = allocate_frames(
        round(total), [s.weight for s in fmt.shots], minimum=round(fmt.min_shot_s * fmt.fps)
    )

    env = _environment(fmt.root)
    try:
        template = env.get_template(SHOT_TEMPLATE)
    except TemplateError as exc:
        raise InputError(str(fmt.root / SHOT_TEMPLATE), [f"template error: {exc}"]) from None
    brand = {
        "name": kit.name,
        "tone_words": kit.tone_words,
        "visual_style": kit.visual_style,
        "palette": kit.palette.model_dump(),
    }
    brief_data = brief.model_dump(mode="json")
    shots = []
    for index, (spec, n) in enumerate(zip(fmt.shots, frames, strict=True)):
        context = {
            "brief": brief_data,
            "brand": brand,
            "shot": {
                "role": spec.role,
                "index": index,
                "number": index + 1,
                "count": len(fmt.shots),
                "duration_s": round(n / fmt.fps, 3),
            },
        }
        try:
            prompt = _one_line(template.render(context))
        except TemplateError as exc:
            raise InputError(str(fmt.root / SHOT_TEMPLATE), [f"template error: {exc}"]) from None
        shots.append(
            Shot(
                index=index,
                role=spec.role,
                prompt=prompt,
                negative_prompt=", ".join(fmt.negative_prompt),
                caption="" if spec.caption == "none" else str(brief_data[spec.caption]),
                frames=n,
                fps=fmt.fps,
                seed=shot_seed(brief.brief_id, index),
            )
        )
    return ShotList(brief_id=brief.brief_id, brand=kit.id, format=fmt.id, fps=fmt.fps, shots=shots)
