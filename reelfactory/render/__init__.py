"""Rendering: one shot in, one video clip out, behind the ``Renderer`` protocol.

The animatic renderer (CPU, no weights) is the built-in default. The diffusers backend
(``render.diffusion``) implements the same protocol for every model in the registry
(``render.registry``); it is the only module that imports torch/diffusers, and only when a
model renderer is asked for.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from pydantic import BaseModel, ConfigDict, Field

from reelfactory.models import AspectRatio, AssetRef, BrandKit, Palette, Shot, ShotList
from reelfactory.render.registry import load_registry

if TYPE_CHECKING:
    from reelfactory.settings import Settings


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
    shot_list: ShotList,
    kit: BrandKit,
    ratio: AspectRatio,
    short_edge: int,
    *,
    size: tuple[int, int] | None = None,
) -> list[RenderRequest]:
    """One request per shot of ``shot_list``, framed for ``ratio``. Pure.

    Args:
        size: the renderer's own size for ``ratio`` (a model's); else ``short_edge`` sets it.
    """
    width, height = size or ratio.size(short_edge)
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


class RenderStats(BaseModel):
    """What one render cost: the figures cost per video is computed from."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    renderer: str
    model: str = Field(description="Model id or path; the renderer's name for the animatic.")
    steps: int = Field(default=0, ge=0)
    device: str = "cpu"
    frames_generated: int = Field(ge=0)
    load_s: float = Field(default=0.0, ge=0, description="0 when the pipeline was warm.")
    render_s: float = Field(ge=0, description="Wall time of the generation itself.")
    gpu_s: float = Field(default=0.0, ge=0, description="render_s when it ran on a GPU.")
    peak_vram_bytes: int | None = Field(default=None, ge=0)


class RenderedShot(BaseModel):
    """One shot's clip as a render task hands it back: where it is and what it cost."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    ref: AssetRef
    reused: bool = Field(description="Taken from the shot cache; nothing was rendered.")
    stats: RenderStats | None = Field(
        default=None, description="This render's cost; for a reused clip, what it once cost."
    )


class Renderer(Protocol):
    name: str
    revision: str  # changes whenever the same request would render different pixels

    def render(self, request: RenderRequest, out_path: Path) -> RenderStats | None:
        """Write an H.264 MP4 of exactly ``shot.frames`` frames at ``shot.fps`` to out_path."""
        ...


class ClipLimits(BaseModel):
    """The clip lengths a renderer can make, in frames. Expansion never asks for others."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    min_frames: int = Field(default=1, gt=0)
    max_frames: int = Field(gt=0)


# Looked up without importing the renderer (the CLI and web app must not import moviepy).
CLIP_LIMITS = {"animatic": ClipLimits(min_frames=1, max_frames=24 * 60)}


def clip_limits(renderer: str, fps: int = 24, model_registry: Path | None = None) -> ClipLimits:
    """Shot lengths in frames at ``fps`` that ``renderer`` can make.

    Args:
        model_registry: the extra registry file settings name, if any.
    Raises:
        InputError: ``renderer`` is neither built in nor in the registry.
    """
    if renderer in CLIP_LIMITS:
        return CLIP_LIMITS[renderer]
    spec = load_registry(model_registry).get(renderer)
    top = math.floor(spec.frames.largest * fps / spec.fps + 1e-9)
    return ClipLimits(min_frames=1, max_frames=max(1, top))


def render_size(
    renderer: str, ratio: AspectRatio, short_edge: int, model_registry: Path | None = None
) -> tuple[int, int]:
    """The size ``renderer`` renders ``ratio`` at: a model's own, else from ``short_edge``."""
    if renderer in CLIP_LIMITS:
        return ratio.size(short_edge)
    return load_registry(model_registry).get(renderer).size(ratio)


def get_renderer(name: str, settings: Settings | None = None) -> Renderer:
    """The renderer ``name``; a registry model loads its weights on first render, not here."""
    if name == "animatic":
        from reelfactory.render.animatic import AnimaticRenderer

        return AnimaticRenderer()
    if settings is None:
        from reelfactory.settings import Settings

        settings = Settings()
    spec = load_registry(settings.model_registry).get(name)
    from reelfactory.render.diffusion import DiffusersRenderer

    return DiffusersRenderer(
        spec, device=settings.render_device, warm_pipelines=settings.warm_pipelines
    )
