"""Rendering: one shot in, one video clip out, behind the ``Renderer`` protocol.

The animatic renderer (CPU, no weights) is the built-in default. A diffusers backend will
implement the same protocol; it is the only module allowed to import torch/diffusers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from reelfactory.models import AspectRatio, BrandKit, Palette, Shot, ShotList


class RenderRequest(BaseModel):
    """Everything a renderer needs for one shot; nothing it needs comes from globals."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    shot: Shot
    prompt: str = Field(description="The shot's prompt framed for this request's aspect ratio.")
    shot_count: int = Field(gt=0)
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    palette: Palette
    font: Path


def requests_for(
    shot_list: ShotList, kit: BrandKit, ratio: AspectRatio, short_edge: int
) -> list[RenderRequest]:
    """One request per shot of ``shot_list``, framed for ``ratio``. Pure."""
    width, height = ratio.size(short_edge)
    count = len(shot_list.shots)
    return [
        RenderRequest(
            shot=shot,
            prompt=shot.prompt_for(ratio),
            shot_count=count,
            width=width,
            height=height,
            palette=kit.palette,
            font=kit.font,
        )
        for shot in shot_list.shots
    ]


class Renderer(Protocol):
    name: str
    revision: str  # changes whenever the same request would render different pixels

    def render(self, request: RenderRequest, out_path: Path) -> None:
        """Write an H.264 MP4 of exactly ``shot.frames`` frames at ``shot.fps`` to out_path."""
        ...


class ClipLimits(BaseModel):
    """The clip lengths a renderer can make, in frames. Expansion never asks for others."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    min_frames: int = Field(default=1, gt=0)
    max_frames: int = Field(gt=0)


# Looked up without importing the renderer (the CLI and web app must not import moviepy).
CLIP_LIMITS = {"animatic": ClipLimits(min_frames=1, max_frames=24 * 60)}


def clip_limits(renderer: str) -> ClipLimits:
    if renderer not in CLIP_LIMITS:
        raise ValueError(f"renderer: unknown renderer {renderer!r} (known: {sorted(CLIP_LIMITS)})")
    return CLIP_LIMITS[renderer]


def get_renderer(name: str) -> Renderer:
    if name == "animatic":
        from reelfactory.render.animatic import AnimaticRenderer

        return AnimaticRenderer()
    raise ValueError(f"renderer: unknown renderer {name!r} (known: animatic)")
