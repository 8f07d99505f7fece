"""Assemble a timeline into the final MP4 with moviepy: join, burn captions, encode."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from moviepy import (
    AudioClip,
    CompositeVideoClip,
    TextClip,
    VideoClip,
    VideoFileClip,
    concatenate_videoclips,
)
from numpy.typing import NDArray

from reelfactory.edit.timeline import caption_position
from reelfactory.media import write_video
from reelfactory.models import BrandKit, CaptionStyle, SafeArea, Timeline

AUDIO_FPS = 44_100


def _silence(t: float | NDArray[np.float64]) -> NDArray[np.float64]:
    return np.zeros((np.size(t), 2)) if np.ndim(t) else np.zeros(2)


def caption_clip(
    text: str, kit: BrandKit, style: CaptionStyle, area: SafeArea, width: int, height: int
) -> TextClip:
    """Caption in the brand font, brand text colour, outlined for legibility on any frame,
    as wide as the safe area allows."""
    size = max(10, round(min(width, height) * style.size))
    return TextClip(
        font=str(kit.font),
        text=text,
        font_size=size,
        color=kit.palette.text,
        stroke_color="#000000",
        stroke_width=max(1, size // 12),
        method="caption",
        size=(int(width * (1 - area.left - area.right)), None),
        margin=(size // 4, size // 3),  # bottom margin: TextClip clips descenders otherwise
        text_align="center",
    )


def assemble(timeline: Timeline, sources: list[Path], kit: BrandKit, out_path: Path) -> None:
    """Write ``timeline`` to ``out_path`` (H.264/AAC, +faststart), atomically.

    Args:
        sources: local paths of the timeline's clips, in order.
    """
    w, h = timeline.width, timeline.height
    style = timeline.caption_style
    area = style.area(timeline.aspect_ratio)
    readers = [VideoFileClip(str(p), audio=False) for p in sources]
    try:
        shots = [
            r.subclipped(0, min(r.duration, c.duration_s)).resized((w, h))
            for r, c in zip(readers, timeline.clips, strict=True)
        ]
        base = concatenate_videoclips(shots, method="chain")
        layers: list[VideoClip] = [base]
        for clip in timeline.clips:
            if clip.caption.strip():
                text = caption_clip(clip.caption, kit, style, area, w, h)
                layers.append(
                    text.with_start(clip.start_s)
                    .with_duration(clip.duration_s)
                    .with_position(caption_position(style, area, w, h, text.w, text.h))
                )
        final = CompositeVideoClip(layers, size=(w, h)).with_duration(timeline.duration_s)
        final = final.with_audio(AudioClip(_silence, duration=timeline.duration_s, fps=AUDIO_FPS))
        write_video(final, out_path, fps=timeline.fps, audio=True)
    finally:
        for r in readers:
            r.close()
