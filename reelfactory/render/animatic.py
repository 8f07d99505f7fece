"""Animatic renderer: a storyboard clip per shot on the CPU, in brand colours.

Each clip shows the shot's role and description over a palette gradient with a slow
push-in, and is labelled ANIMATIC in the frame so nobody mistakes it for final footage.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import numpy as np
from moviepy import VideoClip
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFont

from reelfactory.media import clip_duration, write_video
from reelfactory.render import RenderRequest, RenderStats

OVERSCAN = 1.12  # the canvas is this much larger than the frame; the camera moves inside it
MAX_PROMPT_LINES = 7


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def wrap(text: str, font: ImageFont.FreeTypeFont, max_width: float) -> list[str]:
    """Greedy word wrap by rendered width."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if font.getlength(trial) <= max_width or not line:
            line = trial
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    return lines


class AnimaticRenderer:
    name = "animatic"
    revision = "2"  # 2: the last frame is no longer lost to float rounding

    def canvas(self, req: RenderRequest) -> Image.Image:
        """The still that the camera moves over."""
        w, h = round(req.width * OVERSCAN), round(req.height * OVERSCAN)
        pal = req.palette
        top, bottom = np.array(_rgb(pal.background)), np.array(_rgb(pal.primary))
        ramp = np.linspace(0.0, 1.0, h)[:, None, None]
        pixels = (top * (1 - ramp) + bottom * ramp).astype(np.uint8)
        img = Image.fromarray(np.broadcast_to(pixels, (h, w, 3)).copy())
        draw = ImageDraw.Draw(img)

        rng = random.Random(req.shot.seed)
        r = int(min(w, h) * rng.uniform(0.25, 0.4))
        cx, cy = int(w * rng.uniform(0.55, 0.85)), int(h * rng.uniform(0.3, 0.7))
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=_rgb(pal.accent))

        unit = min(w, h)
        title_font = ImageFont.truetype(str(req.font), max(10, unit // 9))
        body_font = ImageFont.truetype(str(req.font), max(8, unit // 24))
        x, y = int(w * 0.09), int(h * 0.16)
        draw.text((x, y), req.shot.role.upper(), font=title_font, fill=_rgb(pal.text))
        y += int(title_font.size * 1.4)
        lines = wrap(req.prompt, body_font, w * 0.78)
        if len(lines) > MAX_PROMPT_LINES:
            lines = [*lines[: MAX_PROMPT_LINES - 1], lines[MAX_PROMPT_LINES - 1] + " …"]
        for line in lines:
            draw.text((x, y), line, font=body_font, fill=_rgb(pal.text))
            y += int(body_font.size * 1.3)
        return img

    def label(self, req: RenderRequest) -> Image.Image:
        """The fixed ANIMATIC badge, drawn over every frame after the camera move."""
        size = max(8, min(req.width, req.height) // 20)
        font = ImageFont.truetype(str(req.font), size)
        text = f"ANIMATIC · shot {req.shot.index + 1}/{req.shot_count}"
        pad = size // 2
        box_w, box_h = int(font.getlength(text)) + 2 * pad, int(size * 1.2) + 2 * pad
        badge = Image.new("RGBA", (box_w, box_h), (0, 0, 0, 170))
        ImageDraw.Draw(badge).text((pad, pad), text, font=font, fill=(255, 255, 255, 255))
        return badge

    def render(self, request: RenderRequest, out_path: Path) -> RenderStats:
        started = time.perf_counter()
        canvas = self.canvas(request)
        badge = self.label(request)
        cw, ch = canvas.size
        w, h = request.width, request.height
        frames, fps = request.shot.frames, request.shot.fps
        margin = max(2, min(w, h) // 40)

        def frame_at(t: float) -> NDArray[np.uint8]:
            # Slow push-in: the crop shrinks from the whole canvas to one frame's worth.
            p = min(1.0, max(0.0, t * fps / max(1, frames - 1)))
            cw_t, ch_t = cw - (cw - w) * p, ch - (ch - h) * p
            left, top = (cw - cw_t) / 2, (ch - ch_t) / 2
            frame = canvas.resize(
                (w, h), Image.Resampling.BILINEAR, box=(left, top, left + cw_t, top + ch_t)
            )
            frame.paste(badge, (margin, margin), badge)
            return np.asarray(frame)

        clip = VideoClip(frame_function=frame_at, duration=clip_duration(frames, fps))
        write_video(clip, out_path, fps=fps, audio=False, crf=18)
        return RenderStats(
            renderer=self.name,
            model=self.name,
            frames_generated=frames,
            render_s=round(time.perf_counter() - started, 3),
        )
