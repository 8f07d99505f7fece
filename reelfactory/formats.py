"""Video formats: the structure half of a template (``format.yaml``); the prose half is the
Jinja2 ``shot.j2`` beside it. Adding a format means adding a folder under ``templates/``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from reelfactory.brand import read_yaml
from reelfactory.errors import InputError, problems_from
from reelfactory.models import AspectRatio, CaptionStyle

FORMAT_FILE = "format.yaml"
SHOT_TEMPLATE = "shot.j2"

CaptionSource = Literal["title", "message", "call_to_action", "step", "none"]


class Range(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    min: float = Field(gt=0)
    max: float = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.min > self.max:
            raise ValueError(f"min {self.min:g} is larger than max {self.max:g}")
        return self


class Timing(BaseModel):
    """The timing rules of a format: output fps, total and per-shot duration bounds."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    fps: int = Field(gt=0, le=60)
    duration_s: Range
    shot_s: Range = Field(description="Bounds on each shot's length.")


class ShotSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    role: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    weight: float = Field(gt=0, description="Share of the total duration, relative to siblings.")
    caption: CaptionSource = "none"
    repeat: Literal["steps"] | None = Field(
        default=None, description="'steps': one shot per step in the brief's copy."
    )
    framing: dict[AspectRatio, str] = Field(
        default_factory=dict, description="Per-ratio framing hints overriding the format's."
    )
    lower_third: Literal["title", "message", "call_to_action", "none"] = Field(
        default="none", description="Copy shown as a name strap over this shot."
    )

    @model_validator(mode="after")
    def _step_captions(self) -> ShotSpec:
        if (self.caption == "step") != (self.repeat == "steps"):
            raise ValueError("caption 'step' goes with repeat 'steps', and only with it")
        return self


class Format(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    name: str
    description: str = ""
    timing: Timing
    steps: Range | None = Field(default=None, description="How many steps the brief must have.")
    caption_style: CaptionStyle
    framing: dict[AspectRatio, str] = Field(description="Framing hint per aspect ratio.")
    negative_prompt: list[str] = Field(default_factory=list)
    shots: list[ShotSpec] = Field(min_length=1)
    root: Path

    @model_validator(mode="after")
    def _complete(self) -> Format:
        missing = [r.value for r in AspectRatio if r not in self.framing]
        missing_areas = [r.value for r in AspectRatio if r not in self.caption_style.safe_area]
        if missing or missing_areas:
            raise ValueError(
                f"every aspect ratio needs a framing hint and a caption safe area "
                f"(missing framing: {missing}, safe_area: {missing_areas})"
            )
        repeats = any(s.repeat == "steps" for s in self.shots)
        if repeats != (self.steps is not None):
            raise ValueError("'steps' bounds go with a shot that has repeat: steps")
        return self


def list_formats(templates_dir: Path) -> list[str]:
    return sorted(p.parent.name for p in templates_dir.glob(f"*/{FORMAT_FILE}"))


def load_format(templates_dir: Path, format_id: str) -> Format:
    folder = templates_dir / format_id
    path = folder / FORMAT_FILE
    if not path.is_file():
        known = ", ".join(list_formats(templates_dir)) or "none"
        raise InputError("brief", [f"format: unknown template {format_id!r} (known: {known})"])
    if not (folder / SHOT_TEMPLATE).is_file():
        raise InputError(str(folder), [f"{SHOT_TEMPLATE}: missing beside {FORMAT_FILE}"])
    data = read_yaml(path)
    data["root"] = folder
    try:
        return Format.model_validate(data)
    except ValidationError as exc:
        raise InputError(str(path), problems_from(exc)) from None
