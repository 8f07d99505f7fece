"""Write a Timeline to an H.264/AAC MP4 with moviepy, fast.

moviepy is the API: it reads the shot clips, rasterises every text in the brand font and
iterates the cut's frames. What it does not do here is composite or encode:

- its float ``CompositeVideoClip`` costs ~55 ms a 720p frame on one core. Every overlay
  (captions, logo bug, label, lower-thirds, cards) is rasterised once, premultiplied, and
  blended into the frame's own uint8 pixels only where it sits; a transition is one
  ``cv2.addWeighted``. A thread composes a few frames ahead of the encoder.
- its ``write_videofile`` pipes RGB for ffmpeg to convert, and exports the sound alone
  before the picture starts. Frames go to x264 as I420 (converted by OpenCV) and the sound
  as a WAV that ffmpeg encodes alongside.

The decoders, the composer and the encoder overlap, so two cores stay busy; on this machine
the cut takes ~1.1x one hand-written ffmpeg filter graph (``bench/assembly.py``).
"""

from __future__ import annotations

import queue
import subprocess
import tempfile
import threading
import wave
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import imageio_ffmpeg
import numpy as np
import proglog
from fontTools.ttLib import TTFont
from moviepy import AudioFileClip, TextClip, VideoClip, VideoFileClip
from numpy.typing import NDArray
from PIL import Image

from reelfactory.edit.audio import (
    AUDIO_RATE,
    Levelled,
    fit_length,
    level,
    loudness,
    music_envelope,
)
from reelfactory.edit.timeline import (
    caption_position,
    corner_position,
    lower_third_position,
    reframe_box,
)
from reelfactory.errors import InputError
from reelfactory.files import atomic_path
from reelfactory.media import clip_duration
from reelfactory.models import Segment, Span, Timeline, TransitionKind

Frame = NDArray[np.uint8]
Progress = Callable[[int, int], None]


class AssemblyError(RuntimeError):
    """A cut could not be written; the message names the shot or file."""


# --------------------------------------------------------------------------- layers


@dataclass(frozen=True)
class Layer:
    """A rasterised overlay, ready to blend: premultiplied colour and inverse alpha, both on a
    0-256 scale so blending is a multiply-add and a shift (no division), cropped to its ink."""

    pre: NDArray[np.uint16]  # (h, w, 3): rgb * alpha
    inv: NDArray[np.uint16]  # (h, w, 1): 256 - alpha
    size: tuple[int, int]  # the original image's (width, height), which placement uses
    dx: int = 0  # where the crop starts inside the original image
    dy: int = 0

    @classmethod
    def from_rgba(cls, image: Image.Image) -> Layer:
        rgba = np.asarray(image.convert("RGBA"), dtype=np.uint16)
        ys, xs = np.nonzero(rgba[:, :, 3])
        if len(ys) == 0:
            empty = np.zeros((1, 1, 3), np.uint16)
            return cls(pre=empty, inv=np.full((1, 1, 1), 256, np.uint16), size=image.size)
        y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
        rgba = rgba[y0:y1, x0:x1]
        alpha = (rgba[:, :, 3:4] * 256 + 127) // 255
        return cls(
            pre=rgba[:, :, :3] * alpha, inv=256 - alpha, size=image.size, dx=int(x0), dy=int(y0)
        )

    def blend(self, frame: Frame, x: int, y: int) -> None:
        """Composite over ``frame`` in place with the image's corner at ``(x, y)``, clipped."""
        x, y = x + self.dx, y + self.dy
        h, w = frame.shape[:2]
        lh, lw = self.pre.shape[:2]
        x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + lw, w), min(y + lh, h)
        if x1 <= x0 or y1 <= y0:
            return
        pre = self.pre[y0 - y : y1 - y, x0 - x : x1 - x]
        inv = self.inv[y0 - y : y1 - y, x0 - x : x1 - x]
        roi = frame[y0:y1, x0:x1]
        roi[:] = (roi * inv + pre) >> 8


def _hex(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


@cache
def _cmap(font: Path) -> frozenset[int]:
    with TTFont(str(font), fontNumber=0, lazy=True) as f:
        return frozenset(f.getBestCmap() or {})


def check_glyphs(font: Path, texts: list[str]) -> None:
    """Refuse text the brand font cannot draw: it would burn in as boxes.

    Raises:
        InputError: naming the missing characters and the font.
    """
    have = _cmap(font)
    missing = sorted({c for t in texts for c in t if not c.isspace() and ord(c) not in have})
    if missing:
        shown = ", ".join(f"{c!r} (U+{ord(c):04X})" for c in missing[:12])
        raise InputError(
            "captions",
            [f"the brand font {font.name} has no glyph for {shown}; use a font that covers it"],
        )


def text_image(
    text: str,
    font: Path,
    size: int,
    colour: str,
    *,
    width: int | None = None,
    stroke: bool = True,
    align: str = "center",
) -> Image.Image:
    """Text as an RGBA image in the brand font, via moviepy's TextClip (wrapped to ``width``)."""
    clip = TextClip(
        font=str(font),
        text=text,
        font_size=size,
        color=colour,
        stroke_color="#000000" if stroke else None,
        stroke_width=max(1, size // 12) if stroke else 0,
        method="caption" if width else "label",
        size=(width, None) if width else (None, None),
        margin=(size // 4, size // 3),  # bottom margin: TextClip clips descenders otherwise
        text_align=align,
        horizontal_align=align,
        duration=1,
    )
    rgb = clip.get_frame(0)
    alpha = clip.mask.get_frame(0) if clip.mask is not None else np.ones(rgb.shape[:2])
    rgba = np.dstack([rgb, (np.asarray(alpha) * 255).round().astype(np.uint8)])
    return Image.fromarray(rgba.astype(np.uint8), "RGBA")


def _boxed(image: Image.Image, fill: tuple[int, int, int, int], pad: int) -> Image.Image:
    box = Image.new("RGBA", (image.width + 2 * pad, image.height + 2 * pad), fill)
    box.alpha_composite(image, (pad, pad))
    return box


def _logo(path: Path, width: int, opacity: float = 1.0) -> Image.Image:
    try:
        logo = Image.open(path).convert("RGBA")
    except OSError as exc:
        raise AssemblyError(f"logo {path}: cannot read it ({exc})") from None
    height = max(1, round(logo.height * width / logo.width))
    logo = logo.resize((max(1, width), height), Image.Resampling.LANCZOS)
    if opacity < 1:
        alpha = np.asarray(logo)[:, :, 3].astype(np.float32) * opacity
        logo.putalpha(Image.fromarray(alpha.round().astype(np.uint8)))
    return logo


@dataclass(frozen=True)
class Placed:
    layer: Layer
    x: int
    y: int
    spans: tuple[Span, ...]

    def on(self, n: int) -> bool:
        return any(s.start <= n < s.end for s in self.spans)


def overlays(tl: Timeline) -> list[Placed]:
    """Every overlay of the cut, rasterised once, in drawing order (label on top)."""
    w, h = tl.width, tl.height
    short = min(w, h)
    area, style = tl.safe_area, tl.caption_style
    inner = int(w * (1 - area.left - area.right))
    placed: list[Placed] = []
    if tl.logo is not None and tl.logo_spans:
        layer = Layer.from_rgba(_logo(tl.logo_file, round(w * tl.logo.width), tl.logo.opacity))
        x, y = corner_position(tl.logo.position, area, w, h, *layer.size)
        placed.append(Placed(layer, x, y, tuple(tl.logo_spans)))
    strap_size = max(10, round(short * style.size * 0.8))
    r, g, b = _hex(tl.accent)
    for span in tl.lower_thirds:
        text = text_image(
            span.text, tl.font, strap_size, tl.text_colour, stroke=False, align="left"
        )
        layer = Layer.from_rgba(_boxed(text, (r, g, b, 230), strap_size // 3))
        x, y = lower_third_position(area, w, h, layer.size[1])
        placed.append(Placed(layer, x, y, (span,)))
    size = max(10, round(short * style.size))
    for span in tl.captions:
        layer = Layer.from_rgba(text_image(span.text, tl.font, size, tl.text_colour, width=inner))
        x, y = caption_position(style, area, w, h, *layer.size)
        placed.append(Placed(layer, x, y, (span,)))
    label_size = max(10, round(short * tl.label.size))
    text = text_image(tl.label.text, tl.font, label_size, "#ffffff", stroke=False)
    layer = Layer.from_rgba(_boxed(text, (0, 0, 0, 150), label_size // 4))
    x, y = corner_position(tl.label.position, area, w, h, *layer.size)
    placed.append(Placed(layer, x, y, tuple(tl.label_spans)))
    return placed


def card_frame(tl: Timeline, segment: Segment) -> Frame:
    """A brand card: background colour, the logo, and its line of text under it."""
    w, h = tl.width, tl.height
    card = Image.new("RGBA", (w, h), (*_hex(tl.background), 255))
    logo = _logo(tl.logo_file, round(min(w, h) * 0.35))
    text_h = 0
    text = None
    if segment.text.strip():
        size = max(10, round(min(w, h) * 0.07))
        inner = int(w * (1 - tl.safe_area.left - tl.safe_area.right))
        text = text_image(segment.text, tl.font, size, tl.text_colour, width=inner, stroke=False)
        text_h = text.height
    top = (h - logo.height - text_h) // 2
    card.alpha_composite(logo, ((w - logo.width) // 2, max(0, top)))
    if text is not None:
        card.alpha_composite(text, ((w - text.width) // 2, max(0, top + logo.height)))
    return np.ascontiguousarray(np.asarray(card.convert("RGB"), dtype=np.uint8))


# --------------------------------------------------------------------------- picture


class ShotSource:
    """Sequential frames of one rendered shot, reframed to the cut's size without distortion."""

    def __init__(self, path: Path, tl: Timeline, segment: Segment, name: str) -> None:
        try:
            self.clip = VideoFileClip(str(path), audio=False)
        except (OSError, KeyError) as exc:
            raise AssemblyError(f"{name}: cannot read its clip {path.name} ({exc})") from None
        have = round(self.clip.duration * tl.fps)
        if have < segment.source_in + segment.frames:
            self.clip.close()
            raise AssemblyError(
                f"{name}: clip {path.name} has {have} frames at {tl.fps} fps, "
                f"its slot needs {segment.source_in + segment.frames}; frames are never padded"
            )
        self.segment, self.fps, self.name = segment, tl.fps, name
        self.size = (tl.width, tl.height)
        sw, sh = self.clip.size
        self.box = None if (sw, sh) == self.size else reframe_box(sw, sh, *self.size, tl.reframe)
        self.crop = tl.reframe == "crop"
        self.background = np.array(_hex(tl.background), dtype=np.uint8)

    def frame(self, n: int) -> Frame:
        t = (self.segment.source_in + n - self.segment.start) / self.fps
        raw = self.clip.get_frame(t)
        if self.box is None:
            return np.array(raw, dtype=np.uint8)  # a copy: overlays draw on it
        w, h = self.size
        sw, sh, cx, cy, px, py = self.box
        scaled = cv2.resize(np.asarray(raw), (sw, sh), interpolation=cv2.INTER_AREA)
        if self.crop:  # the scaled frame covers the cut; rounding may leave a pixel over
            return np.ascontiguousarray(scaled[cy : cy + h, cx : cx + w])
        out = np.empty((h, w, 3), dtype=np.uint8)
        out[:] = self.background
        out[py : py + sh, px : px + sw] = scaled
        return out

    def close(self) -> None:
        self.clip.close()


def _open_all(
    tl: Timeline, wanted: dict[int, tuple[Path, Segment, str]], stack: ExitStack
) -> dict[int, ShotSource]:
    """Open every shot's clip at once (each open probes the file in its own ffmpeg).

    Every clip is checked before the first frame is written; the first failure, in cut order,
    is raised, and whatever did open is closed by ``stack``.
    """
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {
            i: pool.submit(ShotSource, tl=tl, path=p, segment=s, name=n)
            for i, (p, s, n) in wanted.items()
        }
    opened, failures = {}, []
    for i, future in futures.items():
        if (error := future.exception()) is not None:
            failures.append(error)
            continue
        opened[i] = future.result()
        stack.callback(opened[i].close)
    if failures:
        raise failures[0]
    return opened


class FramesAhead:
    """Frames ``0 .. total-1`` of ``picture``, composed by a thread up to ``depth`` frames ahead.

    The decoders and the x264 encoder are separate processes; composing in a thread lets this
    process read the next frame while moviepy blocks on writing the last one. Frames must be
    asked for in order; asking again for the last one (moviepy sizes a clip on frame 0) is
    answered from memory.
    """

    def __init__(self, picture: Picture, total: int, depth: int = 6) -> None:
        self.total = total
        self.queue: queue.Queue[Frame | BaseException] = queue.Queue(maxsize=depth)
        self.stop = threading.Event()
        self.next, self.last = 0, np.empty((0, 0, 3), dtype=np.uint8)
        self.thread = threading.Thread(
            target=self._produce, args=(picture,), name="compose", daemon=True
        )
        self.thread.start()

    def _produce(self, picture: Picture) -> None:
        for n in range(self.total):
            try:
                item: Frame | BaseException = picture.frame(n)
            except BaseException as exc:  # handed to the consumer, which raises it
                item = exc
            while not self.stop.is_set():
                try:
                    self.queue.put(item, timeout=0.1)
                    break
                except queue.Full:
                    continue
            if self.stop.is_set() or isinstance(item, BaseException):
                return

    def frame(self, n: int) -> Frame:
        if n == self.next - 1:
            return self.last
        if n != self.next:
            raise RuntimeError(f"frame {n} asked for out of order (next is {self.next})")
        item = self.queue.get()
        if isinstance(item, BaseException):
            raise item
        self.next, self.last = n + 1, item
        return item

    def close(self) -> None:
        self.stop.set()
        self.thread.join()


def _still(frame: Frame) -> Callable[[int], Frame]:
    return lambda _n: frame.copy()


class Picture:
    """Frame ``n`` of the cut: segments, transitions and overlays, in uint8."""

    def __init__(self, tl: Timeline, sources: dict[int, Path], stack: ExitStack) -> None:
        self.tl = tl
        self.overlays = overlays(tl)
        self.makers: list[Callable[[int], Frame]] = []
        wanted: dict[int, tuple[Path, Segment, str]] = {}
        for i, seg in enumerate(tl.segments):
            if seg.kind == "shot":
                index = seg.shot_index if seg.shot_index is not None else i
                if index not in sources:
                    raise AssemblyError(f"shot {index + 1}: no rendered clip")
                wanted[i] = (sources[index], seg, f"shot {index + 1}")
        opened = _open_all(tl, wanted, stack)
        for i, seg in enumerate(tl.segments):
            self.makers.append(opened[i].frame if i in opened else _still(card_frame(tl, seg)))
        self.dip = np.empty((tl.height, tl.width, 3), dtype=np.uint8)
        self.dip[:] = np.array(_hex(tl.background), dtype=np.uint8)

    def frame(self, n: int) -> Frame:
        tl = self.tl
        active = [i for i, s in enumerate(tl.segments) if s.start <= n < s.end]
        out = self.makers[active[-1]](n)
        for tr in tl.transitions:
            if not tr.start <= n < tr.end:
                continue
            progress = (n - tr.start + 0.5) / tr.frames
            if tr.kind is TransitionKind.CROSSFADE and len(active) == 2:
                older = self.makers[active[0]](n)
                out = np.asarray(cv2.addWeighted(older, 1 - progress, out, progress, 0))
            elif tr.kind is TransitionKind.DIP:
                depth = 1 - abs(2 * progress - 1)  # 0 -> 1 at the cut -> 0
                out = np.asarray(cv2.addWeighted(out, 1 - depth, self.dip, depth, 0))
        for item in self.overlays:
            if item.on(n):
                item.layer.blend(out, item.x, item.y)
        return out


# --------------------------------------------------------------------------- sound


def mix(tl: Timeline) -> Levelled:
    """The music bed, shaped and levelled; stereo silence when the brand has no music."""
    n = round(tl.duration_s * AUDIO_RATE)
    if tl.music is None:
        return Levelled(np.zeros((n, 2)), loudness(np.zeros((0, 2))), 0.0, False)
    try:
        source = AudioFileClip(str(tl.music.file), fps=AUDIO_RATE)
    except (OSError, KeyError) as exc:
        raise AssemblyError(f"music {tl.music.file}: cannot read it ({exc})") from None
    try:
        samples = np.asarray(source.to_soundarray(fps=AUDIO_RATE), dtype=np.float64)
    finally:
        source.close()
    if samples.ndim == 1:
        samples = samples[:, None]
    stereo = samples if samples.shape[1] == 2 else np.repeat(samples[:, :1], 2, axis=1)
    bed = fit_length(stereo, n) * music_envelope(tl.music, tl.duration_s, tl.fps)[:, None]
    return level(bed, tl.loudness_lufs, tl.true_peak_db)


def measure_loudness(path: Path) -> float:
    """Integrated loudness of a written file's audio, decoded again with ffmpeg."""
    clip = AudioFileClip(str(path), fps=AUDIO_RATE)
    try:
        return loudness(np.asarray(clip.to_soundarray(fps=AUDIO_RATE), dtype=np.float64))
    finally:
        clip.close()


# --------------------------------------------------------------------------- writing


class _Progress(proglog.ProgressBarLogger):  # type: ignore[misc]
    """moviepy's frame loop, reported to ``report(done, total)`` every tenth of the way."""

    def __init__(self, report: Progress) -> None:
        super().__init__()
        self.report, self.next = report, 0.0

    def bars_callback(self, bar: str, attr: str, value: int, old_value: int | None = None) -> None:
        total = self.bars[bar]["total"] or 0
        if bar == "frame_index" and attr == "index" and total and value / total >= self.next:
            self.report(value, total)
            self.next = value / total + 0.1


@dataclass(frozen=True)
class Written:
    duration_s: float
    frames: int
    loudness_lufs: float  # measured on the written file
    mix: Levelled


@contextmanager
def _opened(tl: Timeline, sources: dict[int, Path]) -> Iterator[FramesAhead]:
    with ExitStack() as stack:
        ahead = FramesAhead(Picture(tl, sources, stack), tl.total_frames)
        stack.callback(ahead.close)  # runs first: the composer stops before its clips close
        yield ahead


def _write_wav(path: Path, samples: NDArray[np.float64]) -> None:
    """16-bit PCM for ffmpeg to encode alongside the picture (the mix is already levelled)."""
    pcm = np.clip(np.round(samples * 32767), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(samples.shape[1])
        out.setsampwidth(2)
        out.setframerate(AUDIO_RATE)
        out.writeframes(pcm.tobytes())


def _encoder_command(tl: Timeline, wav: Path, out: Path) -> list[str]:
    """x264 + AAC from raw I420 on stdin and the WAV; BT.601 limited range, as converted."""
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "rawvideo"]
    cmd += ["-pix_fmt", "yuv420p", "-s", f"{tl.width}x{tl.height}", "-r", str(tl.fps)]
    cmd += ["-i", "-", "-i", str(wav), "-map", "0:v:0", "-map", "1:a:0"]
    cmd += ["-c:v", "libx264", "-preset", tl.preset, "-crf", str(tl.crf), "-pix_fmt", "yuv420p"]
    cmd += ["-colorspace", "smpte170m", "-color_range", "tv", "-fps_mode", "cfr"]
    cmd += ["-c:a", "aac", "-b:a", "192k", "-movflags", "+faststart", "-f", "mp4", str(out)]
    return cmd


def _encode(clip: VideoClip, tl: Timeline, wav: Path, out: Path, logger: object) -> None:
    """Pipe moviepy's frames to x264 as I420, with the sound from ``wav``.

    moviepy's own ``write_videofile`` pipes RGB and has ffmpeg convert it (swscale, ~2.6 ms
    a 720p frame on this machine); ``cv2.cvtColor`` does the same BT.601 conversion in
    ~0.3 ms and halves the bytes through the pipe. Frames still come from ``iter_frames``.
    """
    if tl.width % 2 or tl.height % 2:
        raise AssemblyError(f"cut size {tl.width}x{tl.height}: H.264 4:2:0 needs even sides")
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            _encoder_command(tl, wav, out),
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        assert proc.stdin is not None
        try:
            for frame in clip.iter_frames(fps=tl.fps, dtype="uint8", logger=logger):
                proc.stdin.write(cv2.cvtColor(frame, cv2.COLOR_RGB2YUV_I420).data)
            proc.stdin.close()
        except BrokenPipeError:
            pass  # the encoder stopped early; its log says why
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        if proc.wait():
            log.seek(0)
            detail = log.read().decode(errors="replace").strip()[:600]  # the cause comes first
            raise AssemblyError(f"the encoder failed (exit {proc.returncode}): {detail}")


def assemble(
    tl: Timeline,
    sources: dict[int, Path],
    out_path: Path,
    *,
    cover_path: Path | None = None,
    subtitles_srt: str | None = None,
    progress: Progress | None = None,
) -> Written:
    """Write ``tl`` to ``out_path`` (H.264 yuv420p CFR, AAC, +faststart), atomically.

    Args:
        sources: local path of each shot's clip, by shot index.
        cover_path: also save the cover frame there as JPEG (atomically).
        subtitles_srt: with ``tl.soft_subtitles``, embedded as a ``mov_text`` track.
    Raises:
        AssemblyError: a clip is unreadable or shorter than its slot (the shot is named).
        InputError: text the brand font cannot draw.
    """
    texts = [s.text for s in (*tl.captions, *tl.lower_thirds)]
    texts += [tl.label.text] + [s.text for s in tl.segments]
    check_glyphs(tl.font, texts)
    sound = mix(tl)
    total = tl.total_frames
    cover: list[Frame] = []

    with _opened(tl, sources) as frames, atomic_path(out_path) as tmp:

        def make_frame(t: float) -> Frame:
            n = min(round(t * tl.fps), total - 1)
            frame = frames.frame(n)
            if n == tl.cover_frame and not cover:
                cover.append(frame.copy())
            return frame

        clip = VideoClip(make_frame, duration=clip_duration(total, tl.fps))
        wav = tmp.with_name(tmp.name + ".wav")
        try:
            _write_wav(wav, sound.samples)
            _encode(clip, tl, wav, tmp, _Progress(progress) if progress else None)
        finally:
            wav.unlink(missing_ok=True)
        if tl.soft_subtitles and subtitles_srt:
            _add_soft_subtitles(tmp, subtitles_srt, tl.language)
    if cover_path is not None and cover:
        with atomic_path(cover_path) as tmp_cover:
            Image.fromarray(cover[0]).save(tmp_cover, format="JPEG", quality=90)
    measured = measure_loudness(out_path) if tl.music is not None else sound.measured_lufs
    return Written(duration_s=tl.duration_s, frames=total, loudness_lufs=measured, mix=sound)


ISO_639_2 = {"en": "eng", "de": "deu", "fr": "fra", "es": "spa", "it": "ita", "nl": "nld"}


def _add_soft_subtitles(video: Path, srt: str, language: str) -> None:
    """Remux ``video`` in place with ``srt`` as a mov_text track (no re-encode)."""
    subs = video.with_suffix(".srt.tmp")
    muxed = video.with_suffix(".subs.mp4")
    subs.write_text(srt, encoding="utf-8")
    try:
        cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-i", str(video)]
        cmd += ["-f", "srt", "-i", str(subs), "-map", "0", "-map", "1", "-c", "copy"]
        cmd += ["-c:s", "mov_text", "-metadata:s:s:0", f"language={ISO_639_2.get(language, 'und')}"]
        cmd += ["-movflags", "+faststart", "-f", "mp4", str(muxed)]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if result.returncode:
            raise AssemblyError(f"embedding subtitles failed: {result.stderr.strip()[-500:]}")
        muxed.replace(video)
    finally:
        subs.unlink(missing_ok=True)
        muxed.unlink(missing_ok=True)
