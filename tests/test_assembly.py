"""The writer: real shots from the animatic renderer, real encodes, checked with PyAV."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from reelfactory.edit.assemble import AssemblyError, assemble, text_image
from reelfactory.edit.audio import AUDIO_RATE
from reelfactory.edit.captions import to_srt
from reelfactory.edit.timeline import build_timeline
from reelfactory.errors import InputError
from reelfactory.media import probe as moviepy_probe
from reelfactory.media import sha256_file
from reelfactory.models import (
    AspectRatio,
    AssetRef,
    BrandKit,
    Brief,
    EditRules,
    LabelRules,
    ShotList,
)
from reelfactory.render import get_renderer, requests_for
from tests.conftest import brief_data, shot_list_for
from tests.media_checks import audio_loudness, frame_at, moov_before_mdat, probe

EDGE = 96


@pytest.fixture(scope="module")
def short_brief() -> Brief:
    return Brief.model_validate(brief_data(duration_s=6))


def render_shots(
    shots: ShotList, kit: BrandKit, ratio: AspectRatio, folder: Path
) -> tuple[list[AssetRef], dict[int, Path]]:
    refs, paths = [], {}
    for req in requests_for(shots, kit, ratio, EDGE):
        path = folder / f"{ratio.slug}-{req.shot.index}-{req.shot.frames}.mp4"
        if not path.exists():
            get_renderer("animatic").render(req, path)
        paths[req.shot.index] = path
        refs.append(
            AssetRef(
                uri=path.as_uri(),
                sha256=sha256_file(path),
                size=path.stat().st_size,
                media_type="video/mp4",
                **moviepy_probe(path),
            )
        )
    return refs, paths


@pytest.fixture(scope="module")
def shots_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("shots")


@pytest.mark.parametrize("ratio", list(AspectRatio))
def test_each_ratio_is_a_finished_cut(
    tmp_path: Path, shots_dir: Path, aurora: BrandKit, short_brief: Brief, ratio: AspectRatio
) -> None:
    shots = shot_list_for(short_brief, aurora)
    refs, paths = render_shots(shots, aurora, ratio, shots_dir)
    w, h = ratio.size(EDGE)
    tl = build_timeline(shots, refs, aurora, ratio=ratio, width=w, height=h)
    out = tmp_path / "cut" / "final.mp4"
    seen: list[tuple[int, int]] = []
    written = assemble(
        tl,
        paths,
        out,
        cover_path=tmp_path / "cut" / "cover.jpg",
        progress=lambda d, n: seen.append((d, n)),
    )

    p = probe(out)
    assert (p.width, p.height) == (w, h)
    assert p.frames == tl.total_frames == 6 * 24
    assert p.fps == 24
    assert (p.video_codec, p.audio_codec) == ("h264", "aac")
    assert moov_before_mdat(out)
    assert sorted(f.name for f in out.parent.iterdir()) == ["cover.jpg", "final.mp4"]
    assert seen and seen[0][1] == tl.total_frames  # progress was reported
    # Loudness is measured, and lands on the brand's target within 1 LU.
    assert written.loudness_lufs == pytest.approx(aurora.edit.loudness_lufs, abs=1.0)
    assert audio_loudness(out) == pytest.approx(aurora.edit.loudness_lufs, abs=1.0)
    # The cover is the frame the timeline chose.
    from PIL import Image

    with Image.open(tmp_path / "cut" / "cover.jpg") as cover:
        assert cover.size == (w, h)
        expected = frame_at(out, tl.cover_frame).astype(int)
        assert np.abs(np.asarray(cover, dtype=int) - expected).mean() < 12  # JPEG vs H.264


def test_the_label_is_drawn_only_where_the_kit_says(
    tmp_path: Path, shots_dir: Path, aurora: BrandKit, short_brief: Brief
) -> None:
    ratio = AspectRatio.LANDSCAPE
    w, h = ratio.size(EDGE)
    cuts = {}
    for mode in ("always", "edges"):
        kit = aurora.model_copy(
            update={"edit": aurora.edit.model_copy(update={"label": LabelRules(mode=mode)})}
        )
        shots = shot_list_for(short_brief, kit)
        refs, paths = render_shots(shots, kit, ratio, shots_dir)
        tl = build_timeline(shots, refs, kit, ratio=ratio, width=w, height=h)
        cuts[mode] = tmp_path / f"{mode}.mp4"
        assemble(tl, paths, cuts[mode])
    box = (slice(0, h // 4), slice(0, w // 2))  # the top-left corner, where the label sits

    def region(mode: str, frame: int) -> np.ndarray:
        return frame_at(cuts[mode], frame)[box].astype(int)

    assert np.abs(region("always", 10) - region("edges", 10)).mean() < 2  # both labelled
    assert np.abs(region("always", 72) - region("edges", 72)).mean() > 5  # only one is


def test_soft_subtitles_are_a_mov_text_track(
    tmp_path: Path, shots_dir: Path, aurora: BrandKit, short_brief: Brief
) -> None:
    kit = aurora.model_copy(
        update={"edit": aurora.edit.model_copy(update={"soft_subtitles": True})}
    )
    shots = shot_list_for(short_brief, kit)
    refs, paths = render_shots(shots, kit, AspectRatio.SQUARE, shots_dir)
    tl = build_timeline(shots, refs, kit, ratio=AspectRatio.SQUARE, width=EDGE, height=EDGE)
    out = tmp_path / "subs.mp4"
    assemble(tl, paths, out, subtitles_srt=to_srt(tl))
    with av.open(str(out)) as container:
        subs = container.streams.subtitles
        assert len(subs) == 1 and subs[0].codec_context.name == "mov_text"
        assert subs[0].language == "eng"
    assert moov_before_mdat(out)
    assert probe(out).frames == tl.total_frames


def test_a_shorter_clip_fails_with_the_shot_named(
    tmp_path: Path, shots_dir: Path, aurora: BrandKit, short_brief: Brief
) -> None:
    shots = shot_list_for(short_brief, aurora)
    refs, paths = render_shots(shots, aurora, AspectRatio.LANDSCAPE, shots_dir)
    w, h = AspectRatio.LANDSCAPE.size(EDGE)
    # The clip of shot 2 turns out shorter than recorded: the writer counts frames itself.
    unknown = [r.model_copy(update={"duration_s": None}) for r in refs]
    tl = build_timeline(shots, unknown, aurora, ratio=AspectRatio.LANDSCAPE, width=w, height=h)
    paths = {**paths, 1: paths[0]}  # shot 1's clip is shorter than shot 2's slot
    out = tmp_path / "cut.mp4"
    with pytest.raises(AssemblyError, match=r"shot 2: clip .* has \d+ frames .* never padded"):
        assemble(tl, paths, out)
    assert not out.exists() and list(tmp_path.iterdir()) == []  # nothing half-written


def test_text_the_font_cannot_draw_is_refused_not_boxed(
    tmp_path: Path, shots_dir: Path, aurora: BrandKit
) -> None:
    brief = Brief.model_validate(brief_data(duration_s=6, title="Новинка: Σunrise Blend"))
    shots = shot_list_for(brief, aurora)
    refs, paths = render_shots(shots, aurora, AspectRatio.LANDSCAPE, shots_dir)
    w, h = AspectRatio.LANDSCAPE.size(EDGE)
    tl = build_timeline(shots, refs, aurora, ratio=AspectRatio.LANDSCAPE, width=w, height=h)
    assemble(tl, paths, tmp_path / "cyrillic.mp4")  # DejaVu covers Cyrillic and Greek

    cjk = Brief.model_validate(brief_data(duration_s=6, title="日の出ブレンド"))
    shots = shot_list_for(cjk, aurora)
    tl = build_timeline(shots, refs, aurora, ratio=AspectRatio.LANDSCAPE, width=w, height=h)
    with pytest.raises(InputError, match=r"DejaVuSans.ttf has no glyph for 'の' \(U\+306E\), "):
        assemble(tl, paths, tmp_path / "cjk.mp4")
    assert not (tmp_path / "cjk.mp4").exists()


def test_descenders_are_not_clipped(aurora: BrandKit) -> None:
    image = np.asarray(text_image("gjpqy", aurora.font, 40, "#ffffff"))
    alpha = image[:, :, 3]
    ink_rows = np.nonzero(alpha.max(axis=1))[0]
    assert ink_rows.max() < alpha.shape[0] - 1  # clear rows below the lowest descender


def test_mix_is_silent_without_music(
    tmp_path: Path, shots_dir: Path, aurora: BrandKit, short_brief: Brief
) -> None:
    kit = aurora.model_copy(update={"edit": aurora.edit.model_copy(update={"music": None})})
    shots = shot_list_for(short_brief, kit)
    refs, paths = render_shots(shots, kit, AspectRatio.LANDSCAPE, shots_dir)
    w, h = AspectRatio.LANDSCAPE.size(EDGE)
    tl = build_timeline(shots, refs, kit, ratio=AspectRatio.LANDSCAPE, width=w, height=h)
    out = tmp_path / "silent.mp4"
    written = assemble(tl, paths, out)
    assert probe(out).audio_codec == "aac"  # players expect a track, even a silent one
    assert written.loudness_lufs == audio_loudness(out) <= -70
    assert len(written.mix.samples) == round(tl.duration_s * AUDIO_RATE)


@pytest.mark.parametrize(("reframe", "size"), [("crop", (88, 50)), ("pad", (96, 96))])
def test_clips_of_another_shape_are_reframed_not_squashed(
    tmp_path: Path,
    shots_dir: Path,
    aurora: BrandKit,
    short_brief: Brief,
    reframe: str,
    size: tuple[int, int],
) -> None:
    # 170x96 shots into 88x50 scale to 89x50 (rounding): crop must trim the extra column.
    kit = aurora.model_copy(update={"edit": aurora.edit.model_copy(update={"reframe": reframe})})
    shots = shot_list_for(short_brief, kit)
    refs, paths = render_shots(shots, kit, AspectRatio.LANDSCAPE, shots_dir)
    tl = build_timeline(
        shots, refs, kit, ratio=AspectRatio.LANDSCAPE, width=size[0], height=size[1]
    )
    out = tmp_path / "reframed.mp4"
    assemble(tl, paths, out)
    p = probe(out)
    assert (p.width, p.height) == size and p.frames == tl.total_frames
    if reframe == "pad":  # a 16:9 shot in a square: brand-background bars above and below
        shot = next(s for s in tl.segments if s.kind == "shot" and s.frames > 10)
        frame = frame_at(out, shot.start + shot.frames // 2).astype(int)
        bars = np.concatenate([frame[:10], frame[-10:]]).reshape(-1, 3).mean(axis=0)
        want = [int(tl.background[i : i + 2], 16) for i in (1, 3, 5)]
        assert np.abs(bars - want).max() < 12


def test_every_frame_is_written_when_duration_times_fps_is_not_exact(
    tmp_path: Path, aurora: BrandKit
) -> None:
    # 123 frames at 30 fps: 123 / 30 * 30 is 122.99999999999999 in floating point.
    kit = aurora.model_copy(update={"edit": EditRules()})  # plain cuts, no cards
    base = shot_list_for(Brief.model_validate(brief_data(duration_s=6)), kit)
    shot = base.shots[0].model_copy(update={"frames": 123, "fps": 30})
    shots = base.model_copy(update={"fps": 30, "shots": [shot], "edit_frames": 0})
    refs, paths = render_shots(shots, kit, AspectRatio.SQUARE, tmp_path)
    tl = build_timeline(shots, refs, kit, ratio=AspectRatio.SQUARE, width=EDGE, height=EDGE)
    assert tl.fps == 30
    out = tmp_path / "thirty.mp4"
    assemble(tl, paths, out)
    p = probe(out)
    assert p.frames == tl.total_frames and p.fps == 30


def test_an_encoder_failure_is_reported_and_leaves_nothing(
    tmp_path: Path, shots_dir: Path, aurora: BrandKit, short_brief: Brief
) -> None:
    shots = shot_list_for(short_brief, aurora)
    refs, paths = render_shots(shots, aurora, AspectRatio.SQUARE, shots_dir)
    tl = build_timeline(shots, refs, aurora, ratio=AspectRatio.SQUARE, width=EDGE, height=EDGE)
    # model_copy skips validation: x264 itself gets a preset it does not know.
    broken = tl.model_copy(update={"preset": "warp-speed"})
    out = tmp_path / "cut" / "final.mp4"
    with pytest.raises(AssemblyError, match=r"the encoder failed .*warp-speed"):
        assemble(broken, paths, out, cover_path=tmp_path / "cut" / "cover.jpg")
    assert list((tmp_path / "cut").iterdir()) == []
    odd = tl.model_copy(update={"width": EDGE + 1})
    with pytest.raises(AssemblyError, match=r"97x96: H.264 4:2:0 needs even sides"):
        assemble(odd, paths, out)
