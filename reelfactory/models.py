"""Typed data that moves down the lane.

    Brief -> ShotList -> ModerationReport -> AssetRef[] -> Timeline -> Cut[]
          -> ApprovalDecision -> Publication

Everything here is plain pydantic: no I/O, no Prefect.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from enum import StrEnum
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

SLUG = r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$"
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")

Slug = Annotated[str, StringConstraints(pattern=SLUG)]
NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


def _email(value: str) -> str:
    value = value.strip().lower()
    if not EMAIL.match(value):
        raise ValueError(f"not an email address: {value!r}")
    return value


def _colour(value: str) -> str:
    if not HEX_COLOUR.match(value):
        raise ValueError(f"not a #rrggbb colour: {value!r}")
    return value.lower()


Email = Annotated[str, AfterValidator(_email)]
Colour = Annotated[str, AfterValidator(_colour)]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --------------------------------------------------------------------------- intake


class AspectRatio(StrEnum):
    LANDSCAPE = "16:9"
    PORTRAIT = "9:16"
    SQUARE = "1:1"

    @property
    def ratio(self) -> Fraction:
        w, h = self.value.split(":")
        return Fraction(int(w), int(h))

    @property
    def slug(self) -> str:
        return self.value.replace(":", "x")

    def size(self, short_edge: int) -> tuple[int, int]:
        """Frame size in pixels for this ratio, both sides even (H.264 4:2:0 needs that)."""
        long_edge = _even(short_edge * max(self.ratio, 1 / self.ratio))
        short = _even(Fraction(short_edge))
        return (long_edge, short) if self.ratio >= 1 else (short, long_edge)


def _even(x: Fraction) -> int:
    return max(2, 2 * round(x / 2))


class Brief(Frozen):
    """What a marketing team asks for. The same model validates the CLI, the web form and
    the Prefect UI's parameter form."""

    id: Slug | None = Field(
        default=None,
        description="Stable id; published keys derive from it. Derived from the content if empty.",
    )
    brand: Slug = Field(description="Brand kit id, a folder under brand_kits/.")
    format: Slug = Field(default="social-teaser-15", description="Template id under templates/.")
    title: NonEmpty = Field(max_length=120)
    message: NonEmpty = Field(max_length=500, description="The one thing the viewer must get.")
    audience: NonEmpty = Field(max_length=300)
    call_to_action: NonEmpty = Field(max_length=120)
    duration_s: float = Field(gt=0, le=600, description="Total length in seconds.")
    aspect_ratios: list[AspectRatio] = Field(default=[AspectRatio.LANDSCAPE], min_length=1)
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")] = "en"
    submitted_by: Email

    @field_validator("aspect_ratios")
    @classmethod
    def _unique_ratios(cls, value: list[AspectRatio]) -> list[AspectRatio]:
        if len(set(value)) != len(value):
            raise ValueError(f"aspect ratios repeat: {[v.value for v in value]}")
        return value

    @model_validator(mode="after")
    def _derive_id(self) -> Brief:
        if self.id is None:
            payload = self.model_dump(mode="json", exclude={"id"})
            digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
            object.__setattr__(self, "id", f"{self.brand}-{digest[:10]}")
        return self

    @property
    def brief_id(self) -> str:
        assert self.id is not None  # set by _derive_id
        return self.id


# --------------------------------------------------------------------------- brand


class Palette(Frozen):
    primary: Colour
    secondary: Colour
    accent: Colour
    background: Colour
    text: Colour


class BrandKit(Frozen):
    id: Slug
    name: NonEmpty
    palette: Palette
    font: Path = Field(description="Resolved path of the brand's TrueType/OpenType font.")
    logo: Path = Field(description="Resolved path of the brand logo (PNG with alpha).")
    tone_words: list[NonEmpty] = Field(min_length=1)
    visual_style: list[NonEmpty] = Field(default_factory=list)
    banned_terms: list[NonEmpty] = Field(default_factory=list)
    approvers: list[Email] = Field(min_length=1)
    root: Path = Field(description="Folder the kit was loaded from.")


# --------------------------------------------------------------------------- expansion


class Shot(Frozen):
    index: int = Field(ge=0)
    role: NonEmpty
    prompt: str = Field(description="Detailed shot description for the video model.")
    negative_prompt: str = ""
    caption: str = ""
    frames: int = Field(gt=0)
    fps: int = Field(gt=0)
    seed: int = Field(ge=0)

    @property
    def duration_s(self) -> float:
        return self.frames / self.fps


class ShotList(Frozen):
    brief_id: str
    brand: str
    format: str
    fps: int = Field(gt=0)
    shots: list[Shot] = Field(min_length=1)

    @property
    def total_frames(self) -> int:
        return sum(s.frames for s in self.shots)

    @property
    def duration_s(self) -> float:
        return self.total_frames / self.fps


# --------------------------------------------------------------------------- moderation


class Verdict(StrEnum):
    ALLOW = "allow"
    REVIEW = "review"
    BLOCK = "block"


class ModerationFinding(Frozen):
    layer: str = Field(description="Which check found it, e.g. 'blocklist:brand'.")
    category: str
    verdict: Verdict
    field: str = Field(description="Where: 'brief.message', 'shot[2].prompt', ...")
    term: str
    span: tuple[int, int]
    excerpt: str

    def describe(self) -> str:
        return (
            f"{self.field} contains {self.category} term {self.term!r} "
            f"at {self.span[0]}-{self.span[1]} ({self.layer}): {self.excerpt!r}"
        )


class ModerationReport(Frozen):
    subject: str
    findings: list[ModerationFinding] = Field(default_factory=list)

    @property
    def verdict(self) -> Verdict:
        verdicts = {f.verdict for f in self.findings}
        for v in (Verdict.BLOCK, Verdict.REVIEW):
            if v in verdicts:
                return v
        return Verdict.ALLOW


# --------------------------------------------------------------------------- media


class AssetRef(Frozen):
    """A pointer to bytes in an asset store. Media never travels through Prefect."""

    uri: str
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    size: int = Field(ge=0)
    media_type: str
    duration_s: float | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None


class TimelineClip(Frozen):
    shot_index: int
    asset: AssetRef
    start_s: float = Field(ge=0)
    duration_s: float = Field(gt=0)
    caption: str


class Timeline(Frozen):
    """Edit decision list for one cut."""

    brief_id: str
    aspect_ratio: AspectRatio
    width: int
    height: int
    fps: int
    clips: list[TimelineClip] = Field(min_length=1)

    @property
    def duration_s(self) -> float:
        last = self.clips[-1]
        return last.start_s + last.duration_s


class Cut(Frozen):
    aspect_ratio: AspectRatio
    video: AssetRef
    captions: AssetRef


# --------------------------------------------------------------------------- approval


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


class ApprovalDecision(Frozen):
    brief_id: str
    flow_run_id: str
    approver: str
    decision: Decision | None = Field(description="None when the attempt was refused.")
    notes: str = ""
    accepted: bool = Field(description="False when the attempt was refused (not allowed, ...).")
    reason: str = ""
    decided_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


# --------------------------------------------------------------------------- publishing


class Publication(Frozen):
    brief_id: str
    flow_run_id: str
    aspect_ratio: AspectRatio
    bucket: str
    key: str
    uri: str
    captions_key: str
    captions_uri: str
    sha256: str
    size: int
    duration_s: float
    width: int
    height: int
    link: str = Field(description="Shareable link: presigned URL on S3, file:// locally.")


class RunOutcome(Frozen):
    """What a produce-video run ended with."""

    status: Literal["published", "rejected"]
    brief_id: str
    publications: list[Publication] = Field(default_factory=list)
