"""Independent media checks with PyAV (its own FFmpeg), not the code under test."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np


@dataclass
class Probe:
    width: int
    height: int
    frames: int
    fps: float
    duration_s: float
    video_codec: str
    audio_codec: str | None


def probe(path: Path) -> Probe:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        frames = sum(1 for _ in container.decode(video=0))
        fps = float(video.average_rate or 0)
        return Probe(
            width=video.codec_context.width,
            height=video.codec_context.height,
            frames=frames,
            fps=fps,
            duration_s=frames / fps,
            video_codec=video.codec_context.name,
            audio_codec=audio.codec_context.name if audio else None,
        )


def frame_at(path: Path, index: int) -> np.ndarray:
    with av.open(str(path)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i == index:
                return frame.to_ndarray(format="rgb24")
    raise IndexError(index)


def moov_before_mdat(path: Path) -> bool:
    """+faststart puts the index (moov) before the media data (mdat)."""
    data = path.read_bytes()
    return 0 <= data.find(b"moov") < data.find(b"mdat")


def audio_loudness(path: Path) -> float:
    """Integrated loudness (LUFS) of the file's audio as PyAV decodes it."""
    from reelfactory.edit.audio import loudness

    with av.open(str(path)) as container:
        rate = container.streams.audio[0].rate
        chunks = [f.to_ndarray().T for f in container.decode(audio=0)]  # fltp: one row a channel
    return loudness(np.concatenate(chunks).astype(np.float64), rate)
