"""Media I/O helpers: atomic video writes, hashing and probing. No decisions here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from moviepy import VideoClip
from moviepy.video.io.ffmpeg_reader import ffmpeg_parse_infos

from reelfactory.files import atomic_path, sha256_file

__all__ = ["atomic_path", "clip_duration", "probe", "sha256_file", "write_video"]


def clip_duration(frames: int, fps: int) -> float:
    """The moviepy duration that writes exactly ``frames`` frames.

    moviepy writes ``int(duration * fps)`` frames, and ``123 / 30 * 30`` is 122.99999999999999:
    half a frame over keeps the last frame. Frame times stay ``n / fps``.
    """
    return (frames + 0.5) / fps


def write_video(
    clip: VideoClip, path: Path, *, fps: int, audio: bool, crf: int = 20, preset: str = "veryfast"
) -> None:
    """Encode H.264 (+AAC) MP4 with the moov atom up front, atomically."""
    with atomic_path(path) as tmp:
        clip.write_videofile(
            str(tmp),
            fps=fps,
            codec="libx264",
            audio=audio,
            audio_codec="aac" if audio else None,
            preset=preset,
            temp_audiofile_path=str(path.parent),
            ffmpeg_params=["-crf", str(crf), "-pix_fmt", "yuv420p", "-movflags", "+faststart"],
            logger=None,
        )


def probe(path: Path) -> dict[str, Any]:
    """Duration, size and fps of a video file, read with the ffmpeg that moviepy ships."""
    info = ffmpeg_parse_infos(str(path))
    width, height = info["video_size"]
    return {
        "duration_s": float(info["duration"]),
        "width": int(width),
        "height": int(height),
        "fps": float(info["video_fps"]),
    }
