from __future__ import annotations

import io
from pathlib import Path

import webvtt

from reelfactory.edit.assemble import assemble
from reelfactory.edit.captions import to_srt, to_webvtt
from reelfactory.edit.timeline import build_timeline, caption_position
from reelfactory.media import sha256_file
from reelfactory.models import AspectRatio, AssetRef, BrandKit, Brief
from reelfactory.render import get_renderer, requests_for
from tests.conftest import shot_list_for
from tests.media_checks import moov_before_mdat, probe


def fake_refs(n: int) -> list[AssetRef]:
    return [
        AssetRef(uri=f"file:///x/{i}.mp4", sha256="0" * 64, size=1, media_type="video/mp4")
        for i in range(n)
    ]


def test_timeline_and_captions(aurora: BrandKit, brief: Brief) -> None:
    shots = shot_list_for(brief, aurora)
    tl = build_timeline(shots, fake_refs(3), ratio=AspectRatio.LANDSCAPE, width=170, height=96)
    assert tl.duration_s == brief.duration_s
    assert tl.clips[0].start_s == 0

    vtt = to_webvtt(tl)
    captions = webvtt.read_buffer(io.StringIO(vtt))
    assert [c.text for c in captions.captions] == [s.caption for s in shots.shots]
    assert captions.captions[0].start_time.in_milliseconds() == 0
    assert captions.captions[-1].end_time.in_milliseconds() == 15_000
    assert captions.captions[1].start == captions.captions[0].end  # cues butt-join, no gaps
    srt = to_srt(tl)
    assert srt.startswith("1\n00:00:00,000 --> ") and "00:00:15,000" in srt


def test_cue_text_cannot_break_out(aurora: BrandKit, brief: Brief) -> None:
    tricky = brief.model_copy(update={"message": "a --> b\n\nWEBVTT"})
    shots = shot_list_for(tricky, aurora)
    tl = build_timeline(shots, fake_refs(3), ratio=AspectRatio.LANDSCAPE, width=170, height=96)
    captions = webvtt.read_buffer(io.StringIO(to_webvtt(tl)))
    assert len(captions) == 3


def test_assemble_writes_faststart_h264_aac_of_exact_length(
    tmp_path: Path, aurora: BrandKit, brief: Brief
) -> None:
    short = brief.model_copy(update={"duration_s": 6.0})
    shots = shot_list_for(short, aurora)
    refs, paths = [], []
    for req in requests_for(shots, aurora, AspectRatio.PORTRAIT, 64):
        path = tmp_path / f"{req.shot.index}.mp4"
        get_renderer("animatic").render(req, path)
        paths.append(path)
        refs.append(
            AssetRef(uri=path.as_uri(), sha256=sha256_file(path), size=1, media_type="video/mp4")
        )
    tl = build_timeline(shots, refs, ratio=AspectRatio.PORTRAIT, width=64, height=114)
    out = tmp_path / "cut" / "final.mp4"
    assemble(tl, paths, aurora, out)

    p = probe(out)
    assert (p.width, p.height) == (64, 114)
    assert abs(p.frames - shots.total_frames) <= 1
    assert (p.video_codec, p.audio_codec) == ("h264", "aac")
    assert moov_before_mdat(out)
    assert [f.name for f in out.parent.iterdir()] == ["final.mp4"]  # no temp files left


def test_captions_sit_inside_each_ratios_safe_area(aurora: BrandKit, brief: Brief) -> None:
    style = shot_list_for(brief, aurora).caption_style
    for ratio in AspectRatio:
        w, h = ratio.size(720)
        area = style.area(ratio)
        x, y = caption_position(style, area, w, h, text_w=300, text_h=80)
        assert y + 80 == round(h * (1 - area.bottom))  # bottom edge on the safe line
        assert w * area.left <= x and x + 300 <= w * (1 - area.right)
    portrait = style.area(AspectRatio.PORTRAIT)
    _, y = caption_position(style, portrait, 720, 1280, 300, 80)
    assert y + 80 <= 1280 * 0.8  # clear of the bottom fifth where app controls sit
    top = style.model_copy(update={"position": "top"})
    assert caption_position(top, portrait, 720, 1280, 300, 80)[1] == round(1280 * portrait.top)
