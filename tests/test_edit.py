"""The edit decision list, caption sidecars and the OTIO export: pure, no rendering."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import opentimelineio as otio
import pytest
import webvtt

from reelfactory.brand import load_brand_kit
from reelfactory.edit.audio import AUDIO_RATE, db_to_gain, level, loudness, music_envelope
from reelfactory.edit.captions import to_srt, to_webvtt
from reelfactory.edit.otio import cut_points, to_otio, to_otio_json
from reelfactory.edit.timeline import (
    build_timeline,
    caption_position,
    corner_position,
    overhead_frames,
    reframe_box,
)
from reelfactory.errors import InputError
from reelfactory.models import (
    AspectRatio,
    AssetRef,
    BrandKit,
    Brief,
    CardRules,
    Corner,
    EditRules,
    LabelRules,
    SafeArea,
    Timeline,
    TransitionKind,
)
from tests.conftest import brief_data, shot_list_for

FPS = 24


def refs(n: int, duration_s: float | None = None) -> list[AssetRef]:
    return [
        AssetRef(
            uri=f"file:///x/{i}.mp4",
            sha256="0" * 64,
            size=1,
            media_type="video/mp4",
            duration_s=duration_s,
        )
        for i in range(n)
    ]


def with_edit(kit: BrandKit, **changes: object) -> BrandKit:
    return kit.model_copy(update={"edit": kit.edit.model_copy(update=changes)})


def timeline(kit: BrandKit, brief: Brief, ratio: AspectRatio = AspectRatio.LANDSCAPE) -> Timeline:
    shots = shot_list_for(brief, kit)
    w, h = ratio.size(96)
    return build_timeline(shots, refs(len(shots.shots)), kit, ratio=ratio, width=w, height=h)


# --------------------------------------------------------------------------- timing


@pytest.mark.parametrize("transition", list(TransitionKind))
@pytest.mark.parametrize(("intro", "end"), [(0, 0), (1.0, 2.0), (0.5, 0)])
@pytest.mark.parametrize("fmt", ["social-teaser-15", "product-spot-30", "training-explainer-60"])
def test_the_cut_lasts_exactly_the_briefs_duration(
    aurora: BrandKit, transition: TransitionKind, intro: float, end: float, fmt: str
) -> None:
    kit = with_edit(
        aurora,
        transition=transition,
        intro=CardRules(duration_s=intro),
        end_card=CardRules(duration_s=end),
    )
    duration = {"social-teaser-15": 15, "product-spot-30": 30, "training-explainer-60": 60}[fmt]
    steps = ["Grind", "Bloom", "Pour"] if fmt == "training-explainer-60" else []
    brief = Brief.model_validate(brief_data(format=fmt, duration_s=duration, steps=steps))
    tl = timeline(kit, brief)
    assert tl.total_frames == duration * FPS
    assert tl.duration_s == duration
    shots = shot_list_for(brief, kit)
    assert shots.total_frames + overhead_frames(kit.edit, len(shots.shots), FPS) == tl.total_frames
    kinds = [s.kind for s in tl.segments]
    assert kinds.count("intro") == (intro > 0) and kinds.count("end-card") == (end > 0)
    assert (
        sum(s.frames for s in tl.segments)
        - sum(t.frames for t in tl.transitions if t.kind is TransitionKind.CROSSFADE)
        == duration * FPS
    )


def test_crossfades_overlap_and_dips_centre_on_the_cut(aurora: BrandKit, brief: Brief) -> None:
    fade = timeline(with_edit(aurora, transition=TransitionKind.CROSSFADE), brief)
    t = round(aurora.edit.transition_s * FPS)
    for tr in fade.transitions:
        a, b = fade.segments[tr.after], fade.segments[tr.after + 1]
        assert b.start == a.end - t  # the incoming segment starts under the outgoing one
        assert (tr.start, tr.end) == (b.start, a.end)

    dip = timeline(with_edit(aurora, transition=TransitionKind.DIP), brief)
    for tr in dip.transitions:
        a, b = dip.segments[tr.after], dip.segments[tr.after + 1]
        assert b.start == a.end  # butt-joined: nothing overlaps
        assert tr.start == b.start - t // 2 and tr.end == b.start + t - t // 2

    cut = timeline(with_edit(aurora, transition=TransitionKind.CUT), brief)
    assert cut.transitions == []
    assert all(b.start == a.end for a, b in zip(cut.segments, cut.segments[1:], strict=False))


def test_cards_carry_the_brand_and_the_call_to_action(aurora: BrandKit, brief: Brief) -> None:
    tl = timeline(aurora, brief)
    intro, end = tl.segments[0], tl.segments[-1]
    assert (intro.kind, intro.text, intro.frames) == ("intro", aurora.name, 24)
    assert (end.kind, end.text, end.frames) == ("end-card", brief.call_to_action, 48)
    assert intro.asset is None and end.asset is None


def test_captions_cover_the_shots_without_colliding(aurora: BrandKit, brief: Brief) -> None:
    tl = timeline(aurora, brief)
    shots = [s for s in tl.segments if s.kind == "shot"]
    assert [c.text for c in tl.captions] == [brief.message, brief.title, brief.call_to_action]
    for cue, shot in zip(tl.captions, shots, strict=True):
        assert shot.start <= cue.start < cue.end <= shot.end  # only while its shot shows
    for a, b in zip(tl.captions, tl.captions[1:], strict=False):
        assert a.end == b.start  # butt-join at the middle of each crossfade
    # The logo bug is on the shots and off the cards.
    assert tl.logo_spans[0].start == tl.captions[0].start
    assert tl.logo_spans[-1].end == tl.captions[-1].end


def test_caption_sidecars_match_the_burned_cues(aurora: BrandKit, brief: Brief) -> None:
    tl = timeline(aurora, brief)
    captions = webvtt.read_buffer(io.StringIO(to_webvtt(tl)))
    assert [c.text for c in captions.captions] == [c.text for c in tl.captions]
    for cue, span in zip(captions.captions, tl.captions, strict=True):
        assert cue.start_time.in_milliseconds() == round(span.start / FPS * 1000)
        assert cue.end_time.in_milliseconds() == round(span.end / FPS * 1000)
    first = tl.captions[0]
    assert to_srt(tl).startswith(f"1\n00:00:00,{round(first.start / FPS * 1000):03d} --> 00:00:0")


def test_cue_text_cannot_break_out(aurora: BrandKit, brief: Brief) -> None:
    tricky = brief.model_copy(update={"message": "a --> b\n\nWEBVTT"})
    captions = webvtt.read_buffer(io.StringIO(to_webvtt(timeline(aurora, tricky))))
    assert len(captions) == 3


def test_every_caption_language_gets_its_own_sidecar(aurora: BrandKit) -> None:
    de = {"title": "Sunrise Blend ist da", "message": "Langsame Morgen schmecken besser.",
          "call_to_action": "Bestellen auf aurora.example"}  # fmt: skip
    brief = Brief.model_validate(brief_data(languages=["en", "de"], translations={"de": de}))
    tl = timeline(aurora, brief)
    german = webvtt.read_buffer(io.StringIO(to_webvtt(tl, "de")))
    assert [c.text for c in german.captions] == [de["message"], de["title"], de["call_to_action"]]
    assert [c.text for c in tl.captions] == [c.text for c in tl.sidecar_captions["en"]]


def test_label_always_or_on_the_first_and_last_seconds(aurora: BrandKit, brief: Brief) -> None:
    always = timeline(aurora, brief)
    assert [(s.start, s.end) for s in always.label_spans] == [(0, 15 * FPS)]
    edges = timeline(with_edit(aurora, label=LabelRules(mode="edges", edge_s=2)), brief)
    assert [(s.start, s.end) for s in edges.label_spans] == [(0, 48), (15 * FPS - 48, 15 * FPS)]
    with pytest.raises(ValueError, match="edge_s"):
        LabelRules(mode="edges", edge_s=1.5)  # the system card's minimum is 2 s


def test_lower_thirds_sit_inside_their_shot(aurora: BrandKit) -> None:
    brief = Brief.model_validate(brief_data(format="product-spot-30", duration_s=30))
    tl = timeline(aurora, brief)
    shots = [s for s in tl.segments if s.kind == "shot"]
    assert [s.text for s in tl.lower_thirds] == [brief.title]  # the proof shot's name strap
    proof = shots[2]
    strap = tl.lower_thirds[0]
    assert proof.start < strap.start < strap.end < proof.end
    assert strap.end - strap.start <= 4 * FPS
    off = timeline(with_edit(aurora, lower_thirds=False), brief)
    assert off.lower_thirds == []


def test_music_ducks_under_voice_over_lines(aurora: BrandKit) -> None:
    brief = Brief.model_validate(brief_data(voice_over={"product": "Meet Sunrise Blend."}))
    tl = timeline(aurora, brief)
    assert tl.music is not None
    assert [d.text for d in tl.music.ducks] == ["Meet Sunrise Blend."]
    duck = tl.music.ducks[0]
    envelope = music_envelope(tl.music, tl.duration_s, FPS)
    assert len(envelope) == round(tl.duration_s * AUDIO_RATE)
    middle = round((duck.start + duck.end) / 2 / FPS * AUDIO_RATE)
    before = round((duck.start / FPS - 1.0) * AUDIO_RATE)
    assert envelope[middle] == pytest.approx(db_to_gain(tl.music.duck_db))
    assert envelope[before] == pytest.approx(1.0)
    assert envelope[0] == 0 and envelope[-1] < 1e-3  # fades start and end at silence


def test_cover_frame_is_in_the_kits_cover_shot(aurora: BrandKit, brief: Brief) -> None:
    tl = timeline(aurora, brief)
    product = tl.segments[2]  # intro, hook, product, ...
    assert product.start <= tl.cover_frame < product.end
    longest = timeline(with_edit(aurora, cover_role=None), brief)
    biggest = max((s for s in longest.segments if s.kind == "shot"), key=lambda s: s.frames)
    assert biggest.start <= longest.cover_frame < biggest.end


def test_a_clip_shorter_than_its_slot_is_named(aurora: BrandKit, brief: Brief) -> None:
    shots = shot_list_for(brief, aurora)
    short = refs(3, duration_s=2.0)
    with pytest.raises(InputError, match=r"shot 1 \(hook\): clip has 48 frames, its slot needs"):
        build_timeline(shots, short, aurora, ratio=AspectRatio.LANDSCAPE, width=96, height=54)


# --------------------------------------------------------------------------- placement


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


def test_corner_overlays_stay_inside_the_safe_area() -> None:
    area = SafeArea(top=0.1, bottom=0.2, left=0.05, right=0.15)
    w, h = 720, 1280
    for corner in Corner:
        x, y = corner_position(corner, area, w, h, 100, 40)
        assert w * area.left - 1 <= x and x + 100 <= w * (1 - area.right) + 1
        assert h * area.top - 1 <= y and y + 40 <= h * (1 - area.bottom) + 1
    assert corner_position(Corner.TOP_RIGHT, area, w, h, 100, 40) == (512, 128)


@pytest.mark.parametrize(
    ("src", "dst", "mode", "expected"),
    [
        ((1280, 720), (720, 1280), "crop", (2276, 1280, 778, 0, 0, 0)),  # fill, crop sides
        ((1280, 720), (720, 1280), "pad", (720, 405, 0, 0, 0, 437)),  # letterbox
        ((640, 360), (1280, 720), "crop", (1280, 720, 0, 0, 0, 0)),  # same shape: just scale
        ((720, 720), (1280, 720), "pad", (720, 720, 0, 0, 280, 0)),  # pillarbox
    ],
)
def test_reframing_never_squashes(
    src: tuple[int, int], dst: tuple[int, int], mode: str, expected: tuple[int, ...]
) -> None:
    box = reframe_box(*src, *dst, mode)
    assert box == expected
    sw, sh = box[:2]
    assert abs(sw / sh - src[0] / src[1]) < 0.01  # the picture keeps its shape


# --------------------------------------------------------------------------- loudness


def test_levelling_reaches_the_target_and_respects_the_peak() -> None:
    t = np.arange(5 * AUDIO_RATE) / AUDIO_RATE
    tone = 0.05 * np.sin(2 * np.pi * 440 * t)
    stereo = np.stack([tone, tone], axis=1)
    levelled = level(stereo, -16.0, -1.0)
    assert loudness(levelled.samples) == pytest.approx(-16.0, abs=0.1)
    assert not levelled.peak_limited
    spiky = stereo.copy()
    spiky[1000] = 0.9  # one loud click: -16 LUFS would push it over the ceiling
    capped = level(spiky, -5.0, -1.0)
    assert capped.peak_limited
    assert np.max(np.abs(capped.samples)) <= db_to_gain(-1.0) + 1e-9
    silent = level(np.zeros((AUDIO_RATE, 2)), -16.0, -1.0)
    assert silent.gain_db == 0 and not np.any(silent.samples)


# --------------------------------------------------------------------------- OTIO


def test_otio_export_loads_back_with_the_same_cuts(aurora: BrandKit, brief: Brief) -> None:
    tl = timeline(aurora, brief)
    loaded = otio.adapters.read_from_string(to_otio_json(tl), "otio_json")
    track = loaded.tracks[0]
    clips = list(track.find_clips())
    assert [c.name for c in clips] == ["intro", "shot 1", "shot 2", "shot 3", "end-card"]
    points = [*cut_points(tl), tl.total_frames]
    for clip, a, b in zip(clips, points, points[1:], strict=False):
        assert clip.range_in_parent().start_time.to_frames() == a
        assert clip.range_in_parent().duration.to_frames() == b - a
    transitions = [t for t in track if isinstance(t, otio.schema.Transition)]
    assert len(transitions) == len(tl.transitions)
    assert all(t.transition_type == "SMPTE_Dissolve" for t in transitions)
    assert sum(t.in_offset.to_frames() + t.out_offset.to_frames() for t in transitions) == sum(
        t.frames for t in tl.transitions
    )
    assert track.duration().to_frames() == tl.total_frames
    shot = clips[1]
    assert shot.media_reference.target_url == tl.segments[1].asset.uri  # type: ignore[union-attr]
    assert [m.name for m in track.markers] == [c.text for c in tl.captions]
    exported = to_otio(tl)
    assert exported.metadata["reelfactory"]["brief_id"] == brief.brief_id


# --------------------------------------------------------------------------- brand kits


def test_kit_naming_a_missing_music_file_is_refused(kits_copy: Path) -> None:
    kit_dir = kits_copy / "aurora-coffee"
    text = (kit_dir / "kit.yaml").read_text()
    (kit_dir / "kit.yaml").write_text(text.replace("file: music.m4a", "file: missing.wav"))
    with pytest.raises(InputError, match=r"edit.music.file: file not found 'missing.wav'"):
        load_brand_kit(kit_dir)


def test_edit_rules_defaults_are_safe() -> None:
    rules = EditRules()
    assert rules.transition is TransitionKind.CUT and rules.music is None
    assert rules.label.text == "AI-generated" and rules.label.mode == "always"
    assert overhead_frames(rules, 3, FPS) == 0  # a kit without edit rules keeps its timing
