"""Benchmark: our moviepy writer against one hand-written ffmpeg filter graph, same cut.

The cut: 30 s, 1280x720, 24 fps; six pre-encoded shots with 0.5 s crossfades, the logo bug,
burned-in captions, the "AI-generated" label and the brand's music bed (aurora-coffee kit,
no brand cards, no lower-thirds). Both routes encode with the same x264 preset and CRF.

  - ``ours``: ``reelfactory.edit.assemble.assemble`` on the Timeline ``build_timeline`` makes
    (everything it does counts: music mix and levelling, overlays, the loudness re-measure);
  - ``ffmpeg``: one ffmpeg command over the same clips: trim, ``xfade``, ``overlay`` (logo),
    ``subtitles`` (the cut's SRT), ``drawtext`` (label); the music looped, trimmed, faded and
    levelled with a single ``volume=`` gain worked out before the clock starts (no measuring).

Making the shots and the SRT is not timed. Routes alternate (A, B, A, B, ...); the best run of
each is compared. Goal (assembly issue): ours <= 1.5 x the ffmpeg graph.

Run: ``python bench/assembly.py [--runs 3] [--keep DIR]``. The last line is one JSON object.
Exits 0 even when the goal is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from moviepy.config import FFMPEG_BINARY
from moviepy.video.io.ffmpeg_reader import ffmpeg_parse_infos
from PIL import Image, ImageFont

from reelfactory.brand import load_brand_kit
from reelfactory.edit.assemble import assemble, mix
from reelfactory.edit.captions import to_srt
from reelfactory.edit.timeline import build_timeline, corner_position, overhead_frames
from reelfactory.files import sha256_file
from reelfactory.formats import load_format
from reelfactory.media import probe
from reelfactory.models import (
    AspectRatio,
    AssetRef,
    BrandKit,
    CardRules,
    LogoRules,
    Shot,
    ShotCopy,
    ShotDirection,
    ShotList,
    Timeline,
    TransitionKind,
)
from reelfactory.settings import PROJECT_ROOT

GOAL_RATIO = 1.5
KIT = PROJECT_ROOT / "brand_kits" / "aurora-coffee"
TEMPLATES = PROJECT_ROOT / "templates"
FORMAT = "product-spot-30"
WIDTH, HEIGHT, FPS, DURATION_S = 1280, 720, 24, 30
PRESET, CRF = "ultrafast", 23
CROSSFADE_S = 0.5
SPARE_FRAMES = 12  # each clip is this much longer than its slot, so both routes really trim

# Six distinct moving sources (lavfi), one per shot; frames sum to 720 + 5 crossfades of 12.
SHOTS: list[tuple[str, int, str, str]] = [
    ("problem", 150, "testsrc2=s=1280x720:r=24", "Mornings start before you do."),
    (
        "solution",
        120,
        "mandelbrot=s=640x360:r=24:end_scale=0.05,scale=1280:720",
        "Aurora Sunrise Blend: roasted slow, brewed fast.",
    ),
    (
        "proof",
        138,
        "life=s=320x180:r=24:mold=10:ratio=0.2:life_color=#f2e3c6:death_color=#6b3e26,"
        "scale=1280:720:flags=neighbor",
        "Single-origin beans, roasted every Monday.",
    ),
    (
        "detail",
        132,
        "gradients=s=1280x720:r=24:speed=0.03:c0=#6b3e26:c1=#e07a2f:c2=#f2e3c6:c3=#1e1410",
        "Notes of cocoa, orange peel and honey.",
    ),
    (
        "ritual",
        114,
        "cellauto=s=1280x720:r=24:rule=110:random_fill_ratio=0.5:scroll=1,hue=h=30",
        "Sixty seconds from grinder to cup.",
    ),
    (
        "cta",
        126,
        "testsrc2=s=1280x720:r=24,hue=H=2*PI*t/5,boxblur=2",
        "Find it in every Aurora shop today.",
    ),
]

Run = dict[str, float]


def ffmpeg_exe() -> str:
    """The static ffmpeg moviepy drives (imageio-ffmpeg's), so both routes use the same one."""
    return str(FFMPEG_BINARY)


def encode_shots(folder: Path) -> list[Path]:
    """Pre-encode every shot's clip (H.264 yuv420p, as a renderer would hand them over).

    A clip already there with the right length (``--keep`` from an earlier run) is reused.
    """
    paths = []
    for i, (role, frames, source, _) in enumerate(SHOTS):
        path = folder / f"shot-{i}-{role}.mp4"
        paths.append(path)
        if path.is_file() and round(probe(path)["duration_s"] * FPS) == frames + SPARE_FRAMES:
            continue
        cmd = [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", source]
        cmd += ["-frames:v", str(frames + SPARE_FRAMES), "-c:v", "libx264", "-preset", "veryfast"]
        cmd += ["-crf", "20", "-pix_fmt", "yuv420p", "-r", str(FPS), "-movflags", "+faststart"]
        subprocess.run([*cmd, str(path)], check=True, capture_output=True)
    return paths


def asset_ref(path: Path) -> AssetRef:
    info = probe(path)
    return AssetRef(
        uri=path.as_uri(),
        sha256=sha256_file(path),
        size=path.stat().st_size,
        media_type="video/mp4",
        **info,
    )


def bench_kit() -> BrandKit:
    """The aurora kit's look, with no cards and both routes' encoder settings."""
    kit = load_brand_kit(KIT)
    assert kit.edit.music is not None, "the aurora kit has a music bed"
    edit = kit.edit.model_copy(
        update={
            "transition": TransitionKind.CROSSFADE,
            "transition_s": CROSSFADE_S,
            "intro": CardRules(duration_s=0),
            "end_card": CardRules(duration_s=0),
            "logo": kit.edit.logo or LogoRules(),
            "label": kit.edit.label.model_copy(update={"mode": "always"}),
            "lower_thirds": False,
            "preset": PRESET,
            "crf": CRF,
            "soft_subtitles": False,
        }
    )
    return kit.model_copy(update={"edit": edit})


def shot_list(kit: BrandKit) -> ShotList:
    edit_frames = overhead_frames(kit.edit, len(SHOTS), FPS)
    shots = [
        Shot(
            index=i,
            role=role,
            name=role,
            direction=ShotDirection(
                subject="a cup of Aurora Sunrise Blend",
                action="steam rising",
                setting="a sunlit café counter",
                framing="medium close-up",
                movement="slow push-in",
                lighting="natural window light",
                lens="50 mm, shallow depth of field",
            ),
            prompt=f"Benchmark shot {i + 1}: {role}.",
            caption=caption,
            localized={"en": ShotCopy(caption=caption)},
            frames=frames,
            fps=FPS,
            seed=i,
        )
        for i, (role, frames, _, caption) in enumerate(SHOTS)
    ]
    shots_list = ShotList(
        brief_id="bench-assembly",
        brand=kit.id,
        format=FORMAT,
        fps=FPS,
        caption_style=load_format(TEMPLATES, FORMAT).caption_style,
        edit_frames=edit_frames,
        shots=shots,
    )
    assert shots_list.duration_s == DURATION_S, shots_list.duration_s
    return shots_list


# --------------------------------------------------------------------------- the ffmpeg graph


def _ass_colour(hex_colour: str) -> str:
    r, g, b = hex_colour[1:3], hex_colour[3:5], hex_colour[5:7]
    return f"&H00{b}{g}{r}".upper()


def font_facts(font: Path) -> tuple[str, float]:
    """The font's family name (libass looks fonts up by it) and its line height per em
    (libass sizes a font by its line height, PIL and moviepy by its em)."""
    em = 2048
    face = ImageFont.truetype(str(font), em)
    ascent, descent = face.getmetrics()
    return str(face.getname()[0]), (ascent + descent) / em


def _escape(value: str) -> str:
    """A filter option value inside a -filter_complex string."""
    return value.replace("\\", "\\\\").replace(":", "\\:").replace("'", "\\'")


def ffmpeg_command(
    tl: Timeline, clips: dict[int, Path], srt: Path, gain_db: float, out: Path
) -> list[str]:
    """One ffmpeg invocation that makes the same cut as ``assemble(tl, clips, out)``."""
    assert tl.music is not None and tl.logo is not None
    w, h, fps = tl.width, tl.height, tl.fps
    short, area, style = min(w, h), tl.safe_area, tl.caption_style
    cmd = [ffmpeg_exe(), "-v", "error", "-y", "-nostdin"]
    graph: list[str] = []
    shots = [s for s in tl.segments if s.kind == "shot"]
    for i, seg in enumerate(shots):
        assert seg.shot_index is not None
        cmd += ["-i", str(clips[seg.shot_index])]
        a, b = seg.source_in, seg.source_in + seg.frames
        graph.append(f"[{i}:v]trim=start_frame={a}:end_frame={b},setpts=PTS-STARTPTS[s{i}]")
    last = "s0"
    for k, tr in enumerate(tl.transitions):
        label = f"x{k}"
        offset, duration = tr.start / fps, tr.frames / fps
        graph.append(
            f"[{last}][s{k + 1}]xfade=transition=fade:duration={duration}:offset={offset}[{label}]"
        )
        last = label

    logo_in, music_in = len(shots), len(shots) + 1
    cmd += ["-i", str(tl.logo_file)]
    cmd += ["-stream_loop", "-1", "-i", str(tl.music.file)]
    logo_w = round(w * tl.logo.width)
    with Image.open(tl.logo_file) as im:
        logo_h = max(1, round(im.height * logo_w / im.width))
    lx, ly = corner_position(tl.logo.position, area, w, h, logo_w, logo_h)
    span = tl.logo_spans[0]
    graph.append(
        f"[{logo_in}:v]scale={logo_w}:{logo_h}:flags=lanczos,format=rgba,"
        f"colorchannelmixer=aa={tl.logo.opacity}[logo]"
    )
    graph.append(
        f"[{last}][logo]overlay=x={lx}:y={ly}:enable='between(n,{span.start},{span.end - 1})'[lg]"
    )

    # libass lays SRT out on a 384x288 canvas and scales it: sizes are given in those units.
    to_ass = 288 / h
    size = max(10, round(short * style.size))  # what the writer asks moviepy for
    inner_margin = area.left * 384
    name, per_em = font_facts(tl.font)
    force = ",".join(
        [
            f"FontName={name}",
            f"FontSize={size * per_em * to_ass:.1f}",
            f"PrimaryColour={_ass_colour(tl.text_colour)}",
            "OutlineColour=&H00000000",
            "BorderStyle=1",
            f"Outline={max(1, size // 12) * to_ass:.2f}",
            "Shadow=0",
            "Alignment=2",
            f"MarginV={round((h * area.bottom + size // 3) * to_ass)}",
            f"MarginL={round(inner_margin)}",
            f"MarginR={round(inner_margin)}",
        ]
    )
    graph.append(
        f"[lg]subtitles=filename='{_escape(str(srt))}':"
        f"fontsdir='{_escape(str(tl.font.parent))}':force_style='{force}'[cap]"
    )

    label_size = max(10, round(short * tl.label.size))
    # the writer's label: moviepy's text margins plus a box padding of a quarter of the size
    pad_x, pad_y = 2 * (label_size // 4), label_size // 3 + label_size // 4
    left, top, right, bottom = ImageFont.truetype(str(tl.font), label_size).getbbox(tl.label.text)
    text_w, text_h = int(right - left), int(bottom - top)
    tx, ty = corner_position(tl.label.position, area, w, h, text_w + 2 * pad_x, text_h + 2 * pad_y)
    graph.append(
        f"[cap]drawtext=fontfile='{_escape(str(tl.font))}':text='{_escape(tl.label.text)}':"
        f"fontsize={label_size}:fontcolor=white:box=1:boxcolor=black@{150 / 255:.2f}:"
        f"boxborderw={pad_y}|{pad_x}:x={tx + pad_x}:y={ty + pad_y},format=yuv420p[v]"
    )

    duration = tl.duration_s
    music = tl.music
    graph.append(
        f"[{music_in}:a]atrim=0:{duration},asetpts=PTS-STARTPTS,"
        "aformat=sample_rates=48000:channel_layouts=stereo,"
        f"afade=t=in:st=0:d={music.fade_in_s},"
        f"afade=t=out:st={duration - music.fade_out_s}:d={music.fade_out_s},"
        f"volume={gain_db + music.gain_db:.3f}dB[a]"
    )
    cmd += ["-filter_complex", ";".join(graph), "-map", "[v]", "-map", "[a]"]
    cmd += ["-c:v", "libx264", "-preset", tl.preset, "-crf", str(tl.crf), "-pix_fmt", "yuv420p"]
    cmd += ["-r", str(fps), "-fps_mode", "cfr", "-frames:v", str(tl.total_frames)]
    cmd += ["-c:a", "aac", "-b:a", "192k", "-ar", "48000", "-t", f"{duration}"]
    cmd += ["-movflags", "+faststart", str(out)]
    return cmd


# --------------------------------------------------------------------------- measuring


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def timed(work: Callable[[], object]) -> Run:
    """Wall-clock and CPU (this process and its finished children) seconds of ``work``."""
    cpu, started = _cpu(), time.perf_counter()
    work()
    wall = time.perf_counter() - started
    return {"wall_s": round(wall, 3), "cpu_s": round(_cpu() - cpu, 3)}


def check(path: Path, tl: Timeline) -> dict[str, Any]:
    """The written cut is 30 s (one frame either way), the right size and rate, with sound."""
    info = probe(path)
    tolerance = 1 / tl.fps + 1e-6
    problems = []
    if abs(info["duration_s"] - tl.duration_s) > tolerance:
        problems.append(f"duration {info['duration_s']} s, expected {tl.duration_s}")
    if (info["width"], info["height"]) != (tl.width, tl.height):
        problems.append(f"size {info['width']}x{info['height']}")
    if abs(info["fps"] - tl.fps) > 0.01:
        problems.append(f"fps {info['fps']}")
    if not ffmpeg_parse_infos(str(path)).get("audio_found"):
        problems.append("no audio stream")
    if problems:
        raise SystemExit(f"{path.name}: " + "; ".join(problems))
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each route (alternating)")
    parser.add_argument("--keep", type=Path, help="write the clips, SRT and both cuts here")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    load_before = round(os.getloadavg()[0], 2)  # others' work on the machine skews the figures
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        paths = encode_shots(work)
        print(
            f"pre-encoded {len(paths)} shots in {time.perf_counter() - started:.1f} s", flush=True
        )

        kit = bench_kit()
        shots = shot_list(kit)
        refs = [asset_ref(p) for p in paths]
        tl = build_timeline(
            shots, refs, kit, ratio=AspectRatio.LANDSCAPE, width=WIDTH, height=HEIGHT
        )
        assert tl.total_frames == DURATION_S * FPS, tl.total_frames
        clips = {i: p for i, p in enumerate(paths)}
        srt = work / "captions.srt"
        srt.write_text(to_srt(tl), encoding="utf-8")
        gain_db = mix(tl).gain_db  # what levelling to the kit's loudness needs; not timed
        print(
            f"timeline: {tl.total_frames} frames, {len(tl.transitions)} crossfades, "
            f"{len(tl.captions)} captions; music gain {gain_db:+.2f} dB",
            flush=True,
        )
        out_a, out_b = work / "ours.mp4", work / "ffmpeg.mp4"
        cmd = ffmpeg_command(tl, clips, srt, gain_db, out_b)
        (work / "ffmpeg-command.txt").write_text(shlex.join(cmd) + "\n")

        def ours() -> None:
            assemble(tl, clips, out_a, subtitles_srt=None)

        def ffmpeg() -> None:
            result = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if result.returncode:
                raise SystemExit(f"ffmpeg graph failed: {result.stderr.strip()[-2000:]}")

        runs: dict[str, list[Run]] = {"ours": [], "ffmpeg": []}
        for n in range(1, args.runs + 1):
            for name, work_fn, out in (("ours", ours, out_a), ("ffmpeg", ffmpeg, out_b)):
                out.unlink(missing_ok=True)
                run = timed(work_fn)
                info = check(out, tl)
                runs[name].append(run)
                print(
                    f"run {n} {name}: {run['wall_s']:.2f} s wall, {run['cpu_s']:.2f} s CPU "
                    f"({run['cpu_s'] / run['wall_s']:.2f} cores); "
                    f"{info['duration_s']} s {info['width']}x{info['height']} {info['fps']} fps",
                    flush=True,
                )
        if args.keep:
            print(f"kept the clips, captions.srt and both cuts in {work}", flush=True)

    best = {name: min(r["wall_s"] for r in rs) for name, rs in runs.items()}
    ratio = best["ours"] / best["ffmpeg"]
    print(
        json.dumps(
            {
                "bench": "assembly",
                "ours_s": best["ours"],
                "ffmpeg_s": best["ffmpeg"],
                "ratio": round(ratio, 3),
                "goal": GOAL_RATIO,
                "met": ratio <= GOAL_RATIO,
                "runs": runs,
                "cut": {
                    "duration_s": DURATION_S,
                    "width": WIDTH,
                    "height": HEIGHT,
                    "fps": FPS,
                    "shots": len(SHOTS),
                    "crossfade_s": CROSSFADE_S,
                    "preset": PRESET,
                    "crf": CRF,
                    "audio": "aac 192k 48 kHz",
                },
                "ffmpeg_audio": f"single-pass volume={gain_db:+.2f} dB, computed before timing",
                "cpu_cores": len(os.sched_getaffinity(0)),
                "load_avg_1m_before": load_before,
            }
        )
    )


if __name__ == "__main__":
    main()
