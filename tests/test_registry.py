"""The model registry: what each model can make, checked before any GPU time. Pure."""

from __future__ import annotations

from pathlib import Path

import pytest

from reelfactory.errors import InputError
from reelfactory.models import AspectRatio
from reelfactory.render import clip_limits, render_size
from reelfactory.render.registry import FrameRule, load_registry


def test_the_embedded_registry_has_the_three_models() -> None:
    registry = load_registry()
    assert registry.names() == ["cogvideox-2b", "ltx-video", "wan2.1-t2v-1.3b"]
    ltx, wan = registry.get("ltx-video"), registry.get("wan2.1-t2v-1.3b")
    assert (ltx.pipeline, ltx.source) == ("LTXPipeline", "Lightricks/LTX-Video")
    assert (wan.pipeline, wan.source) == ("WanPipeline", "Wan-AI/Wan2.1-T2V-1.3B-Diffusers")
    assert registry.get("cogvideox-2b").pipeline == "CogVideoXPipeline"
    for spec in registry.models.values():  # every size is one the model's VAE can tile
        for w, h in spec.sizes.values():
            assert w % 16 == 0 and h % 16 == 0, (spec.name, w, h)


@pytest.mark.parametrize(
    ("rule", "asked", "made"),
    [
        (FrameRule(min=9, max=257, step=8), 1, 9),
        (FrameRule(min=9, max=257, step=8), 9, 9),
        (FrameRule(min=9, max=257, step=8), 10, 17),
        (FrameRule(min=9, max=257, step=8), 257, 257),
        (FrameRule(min=9, max=257, step=8), 258, None),
        (FrameRule(min=5, max=83, step=4), 82, None),  # 81 is the largest 4k+1 <= 83
        (FrameRule(min=49, max=49), 30, 49),
    ],
)
def test_frame_rules(rule: FrameRule, asked: int, made: int | None) -> None:
    assert rule.at_least(asked) == made
    if made is not None:
        assert rule.allows(made)


def test_shot_lengths_map_to_model_frames_and_back() -> None:
    wan = load_registry().get("wan2.1-t2v-1.3b")  # 16 fps, 5..81 frames (4k+1)
    assert wan.model_frames(120, 24) == 81  # 5 s at 24 fps -> 80 frames at 16 -> 81
    assert wan.model_frames(24, 24) == 17
    # Expansion is bounded by what the model can cover, in the format's frames.
    assert clip_limits("wan2.1-t2v-1.3b", fps=24).max_frames == 121  # 81 / 16 s at 24 fps
    assert clip_limits("ltx-video", fps=25).max_frames == 267
    assert clip_limits("animatic").max_frames == 24 * 60


def test_what_a_model_cannot_make_is_refused_with_the_allowed_values() -> None:
    registry = load_registry()
    ltx = registry.get("ltx-video")
    with pytest.raises(InputError, match=r"size: ltx-video cannot make 1280x720; it makes 768x448"):
        ltx.check(1280, 720, 48, 24)
    with pytest.raises(
        InputError, match=r"frames: 300 at 24 fps is 12.50 s; ltx-video makes at most"
    ):
        ltx.check(768, 448, 300, 24)
    with pytest.raises(
        InputError, match=r"cogvideox-2b cannot make 9:16; it makes 16:9 \(720x480\)"
    ):
        render_size("cogvideox-2b", AspectRatio.PORTRAIT, 720)
    with pytest.raises(
        InputError, match=r"unknown renderer 'sora' \(known: animatic, cogvideox-2b"
    ):
        clip_limits("sora")
    assert render_size("ltx-video", AspectRatio.SQUARE, 720) == (512, 512)
    assert render_size("animatic", AspectRatio.SQUARE, 720) == (720, 720)


def test_an_extra_registry_adds_and_overrides_and_bad_entries_are_named(tmp_path: Path) -> None:
    extra = tmp_path / "models.yaml"
    extra.write_text(
        "models:\n"
        "  ltx-video: {pipeline: LTXPipeline, source: /models/ltx, steps: 8, guidance: 1,"
        " fps: 24, frames: {min: 9, max: 121, step: 8}, sizes: {'16:9': [768, 448]}}\n"
        "  house-model: {pipeline: WanPipeline, source: ./weights, steps: 4, guidance: 1,"
        " fps: 16, frames: {min: 5, max: 33, step: 4}, sizes: {'1:1': [256, 256]}}\n"
    )
    registry = load_registry(extra)
    assert registry.get("ltx-video").steps == 8 and registry.get("ltx-video").is_local
    assert "house-model" in registry.names() and "wan2.1-t2v-1.3b" in registry.names()

    extra.write_text(
        "models:\n  broken: {pipeline: SoraPipeline, source: x, steps: 0, guidance: 1, fps: 8,"
        " frames: {min: 9, max: 5}, sizes: {'16:9': [64, 64]}}\n"
    )
    with pytest.raises(InputError) as caught:
        load_registry(extra)
    text = str(caught.value)
    assert "models.broken.pipeline" in text and "'SoraPipeline'" in text
    assert "models.broken.steps" in text and "models.broken.frames" in text


def test_planning_for_a_model_keeps_to_what_it_can_make(tmp_path: Path) -> None:
    from reelfactory.intake import plan
    from reelfactory.models import Brief
    from reelfactory.settings import Settings
    from tests.conftest import brief_data

    brief = Brief.model_validate(brief_data(duration_s=15, aspect_ratios=["16:9", "9:16"]))
    wan = plan(brief, Settings(data_dir=tmp_path, renderer="wan2.1-t2v-1.3b"))
    limit = clip_limits("wan2.1-t2v-1.3b", fps=wan.shot_list.fps).max_frames
    assert max(s.frames for s in wan.shot_list.shots) <= limit  # <= 81 frames at 16 fps
    with pytest.raises(InputError, match=r"cogvideox-2b cannot make 9:16"):
        plan(brief, Settings(data_dir=tmp_path, renderer="cogvideox-2b"))
    # Three Wan clips of at most 5.06 s cannot make a 20 s teaser; the animatic can.
    longer = brief.model_copy(update={"duration_s": 20})
    with pytest.raises(InputError, match=r"20 s does not fit 'social-teaser-15', which supports"):
        plan(longer, Settings(data_dir=tmp_path, renderer="wan2.1-t2v-1.3b"))
    assert plan(longer, Settings(data_dir=tmp_path)).shot_list.duration_s == 20
