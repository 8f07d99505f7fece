from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from reelfactory.errors import InputError
from reelfactory.expand import allocate_frames, expand, frame_bounds
from reelfactory.formats import list_formats, load_format
from reelfactory.models import AspectRatio, BrandKit, Brief, ShotList
from reelfactory.render import ClipLimits, clip_limits
from reelfactory.settings import PROJECT_ROOT
from tests.conftest import brief_data, shot_list_for

TEMPLATES = PROJECT_ROOT / "templates"
STEPS = ["Grind 18 g of coffee", "Bloom with 40 g of water", "Pour in slow circles"]


def shots_for(kit: BrandKit, **overrides: object) -> ShotList:
    return shot_list_for(Brief.model_validate(brief_data(**overrides)), kit)


def test_three_formats_ship() -> None:
    assert {"social-teaser-15", "product-spot-30", "training-explainer-60"} <= set(
        list_formats(TEMPLATES)
    )


@pytest.mark.parametrize("duration", [6, 7.5, 10, 12, 15, 20.5, 30])
def test_durations_sum_exactly(aurora: BrandKit, duration: float) -> None:
    shots = shots_for(aurora, duration_s=duration)
    assert shots.total_frames + shots.edit_frames == duration * shots.fps
    assert shots.duration_s == duration
    assert all(1.5 * shots.fps <= s.frames <= 12 * shots.fps for s in shots.shots)
    assert [s.role for s in shots.shots] == ["hook", "product", "cta"]


def test_product_spot_has_four_beats(aurora: BrandKit) -> None:
    shots = shots_for(aurora, format="product-spot-30", duration_s=30)
    assert [s.role for s in shots.shots] == ["problem", "solution", "proof", "cta"]
    assert shots.total_frames + shots.edit_frames == 30 * 24
    assert [s.caption for s in shots.shots][2] == ""  # the proof shot carries no caption


@pytest.mark.parametrize("n_steps", [3, 4, 5])
def test_explainer_has_one_shot_per_step(aurora: BrandKit, n_steps: int) -> None:
    steps = [f"Step text {i}" for i in range(1, n_steps + 1)]
    shots = shots_for(aurora, format="training-explainer-60", duration_s=60, steps=steps)
    assert [s.name for s in shots.shots] == [
        "title",
        *[f"step-{i}" for i in range(1, n_steps + 1)],
        "recap",
    ]
    assert [s.caption for s in shots.shots[1:-1]] == steps
    assert f'step 2: "{steps[1]}"' in shots.shots[2].prompt
    assert shots.total_frames + shots.edit_frames == 60 * 24


def test_explainer_needs_three_to_five_steps(aurora: BrandKit) -> None:
    with pytest.raises(InputError, match=r"steps: the 'training-explainer-60' format needs 3-5"):
        shots_for(aurora, format="training-explainer-60", duration_s=60, steps=STEPS[:2])


def test_shot_anatomy_is_complete_and_on_brand(aurora: BrandKit) -> None:
    for shot in shots_for(aurora).shots:
        d = shot.direction
        assert all(getattr(d, f) for f in d.FIELDS)
        for label in ("Setting:", "Camera:", "Lighting:", "Lens and look:", "Brand palette:"):
            assert label in shot.prompt
        assert d.framing in shot.prompt and d.movement in shot.prompt
        assert "35mm film look" in shot.prompt  # the kit's visual style
        assert "deep brown" in shot.prompt  # the kit's primary colour, named
        assert "warm" in shot.prompt  # tone words


def test_negative_prompt_joins_defaults_format_and_kit(aurora: BrandKit) -> None:
    negative = shots_for(aurora).shots[0].negative_prompt
    assert "watermark" in negative  # built-in default
    assert "flicker" in negative  # the format's
    assert "competitor cups" in negative  # the kit's never_show
    assert len(negative.split(", ")) == len(set(negative.split(", ")))


def test_captions_come_from_the_copy(aurora: BrandKit) -> None:
    shots = shots_for(aurora).shots
    assert [s.caption for s in shots] == [
        "Slow mornings taste better with Sunrise Blend.",
        "Sunrise Blend is here",
        "Order at aurora.example",
    ]


def test_seeds_are_deterministic_and_distinct(aurora: BrandKit) -> None:
    a, b = shots_for(aurora), shots_for(aurora)
    assert [s.seed for s in a.shots] == [s.seed for s in b.shots]
    assert len({s.seed for s in a.shots}) == len(a.shots)
    other = shots_for(aurora, id="another-brief")
    assert [s.seed for s in other.shots] != [s.seed for s in a.shots]


def test_every_ratio_gets_a_framing_hint_and_a_caption_area(aurora: BrandKit) -> None:
    shots = shots_for(aurora)
    for ratio in AspectRatio:
        prompt = shots.shots[0].prompt_for(ratio)
        assert prompt.startswith(shots.shots[0].prompt)
        assert f"Framing for {ratio.value}:" in prompt
    portrait = shots.caption_style.area(AspectRatio.PORTRAIT)
    landscape = shots.caption_style.area(AspectRatio.LANDSCAPE)
    assert portrait.bottom > landscape.bottom  # app controls live at the bottom of 9:16


@pytest.mark.parametrize(
    "payload",
    ["{{ 7*7 }}", "{% for x in range(3) %}x{% endfor %}", "{{ ''.__class__.__mro__ }}"],
)
def test_brief_text_is_data_not_template(aurora: BrandKit, payload: str) -> None:
    shots = shots_for(aurora, message=f"Try {payload} today", title=payload).shots
    assert payload in shots[0].prompt
    assert shots[0].caption == f"Try {payload} today"
    assert payload in shots[1].prompt
    assert "49" not in shots[0].prompt
    assert "xxx" not in shots[0].prompt


# --------------------------------------------------------------------------- localisation


def test_localised_captions_come_from_the_brief_never_invented(aurora: BrandKit) -> None:
    de = {
        "title": "Sunrise Blend ist da",
        "message": "Langsame Morgen schmecken besser.",
        "call_to_action": "Jetzt bestellen",
        "voice_over": {"hook": "Guten Morgen."},
    }
    shots = shots_for(
        aurora,
        languages=["en", "de"],
        translations={"de": de},
        voice_over={"hook": "Good morning."},
    )
    assert shots.languages == ["en", "de"]
    hook = shots.shots[0]
    assert hook.caption == "Slow mornings taste better with Sunrise Blend."
    assert hook.localized["de"].caption == de["message"]
    assert hook.localized["de"].voice_over == "Guten Morgen."
    assert hook.voice_over == "Good morning."
    assert shots.shots[2].localized["de"].caption == "Jetzt bestellen"
    assert "Langsame" not in hook.prompt  # prompts stay in the model's language


def test_first_language_is_the_burned_in_one(aurora: BrandKit) -> None:
    de = {"title": "T", "message": "Nachricht", "call_to_action": "Los"}
    shots = shots_for(aurora, languages=["de", "en"], translations={"de": de})
    assert shots.language == "de"
    assert shots.shots[0].caption == "Nachricht"


def test_missing_localisation_is_an_error() -> None:
    with pytest.raises(ValidationError, match=r"no localised copy for requested language.*'fr'"):
        Brief.model_validate(brief_data(languages=["en", "fr"]))


def test_unknown_voice_over_shot_is_named(aurora: BrandKit) -> None:
    with pytest.raises(InputError, match=r"voice_over.outro: no shot of that name"):
        shots_for(aurora, voice_over={"outro": "Bye"})


# --------------------------------------------------------------------------- bad input


def test_duration_outside_format_range_says_what_fits(aurora: BrandKit) -> None:
    with pytest.raises(
        InputError,
        match=r"duration_s: 45 s does not fit 'social-teaser-15', which supports 6-30 s",
    ):
        shots_for(aurora, duration_s=45)


def test_duration_must_be_whole_frames(aurora: BrandKit) -> None:
    with pytest.raises(
        InputError, match=r"duration_s: 15.01 s is not a whole number of frames at 24 fps"
    ):
        shots_for(aurora, duration_s=15.01)


def test_renderer_clip_limits_bound_every_shot(aurora: BrandKit) -> None:
    brief = Brief.model_validate(brief_data(duration_s=30))
    fmt = load_format(TEMPLATES, brief.format)
    tight = ClipLimits(min_frames=24, max_frames=241)  # e.g. a model that makes <= 10 s clips
    shots = expand(brief, aurora, fmt, limits=tight)
    assert all(s.frames <= 241 for s in shots.shots)
    assert shots.total_frames + shots.edit_frames == 720
    # 3 clips of <= 5 s, plus the 1 s the kit's cards add beyond their crossfades
    with pytest.raises(InputError, match=r"which supports 6-16 s with 3 shots"):
        expand(brief, aurora, fmt, limits=ClipLimits(max_frames=120))


def test_frame_bounds_combine_format_and_renderer() -> None:
    fmt = load_format(TEMPLATES, "social-teaser-15")
    assert frame_bounds(fmt, clip_limits("animatic")) == (36, 288)
    assert frame_bounds(fmt, ClipLimits(min_frames=49, max_frames=97)) == (49, 97)


def test_unknown_template_lists_known_ones() -> None:
    with pytest.raises(
        InputError, match=r"format: unknown template 'opera-3h' \(known: .*social-teaser-15"
    ):
        load_format(TEMPLATES, "opera-3h")


@pytest.mark.parametrize(
    ("field", "limit"),
    [("title", 120), ("message", 500), ("audience", 300), ("call_to_action", 120)],
)
def test_copy_over_its_limit_is_refused_not_truncated(field: str, limit: int) -> None:
    with pytest.raises(ValidationError, match=rf"{field}\n.*at most {limit} characters"):
        Brief.model_validate(brief_data(**{field: "x" * (limit + 1)}))
    assert len(getattr(Brief.model_validate(brief_data(**{field: "x" * limit})), field)) == limit


def test_control_characters_are_stripped() -> None:
    brief = Brief.model_validate(
        brief_data(title="Sun\x00rise\u202e Blend\r\nis\there", message="ok\x07 then")
    )
    assert brief.title == "Sunrise Blend is here"
    assert brief.message == "ok then"


def test_unsupported_ratio_names_the_allowed_ones() -> None:
    with pytest.raises(ValidationError, match=r"aspect_ratios.0\n.*'16:9', '9:16' or '1:1'"):
        Brief.model_validate(brief_data(aspect_ratios=["4:5"]))


def test_broken_format_yaml_names_file_and_field(tmp_path: Path) -> None:
    folder = tmp_path / "bad-format"
    folder.mkdir()
    good = (TEMPLATES / "social-teaser-15" / "format.yaml").read_text()
    (folder / "format.yaml").write_text(good.replace("fps: 24", "fps: 0"))
    (folder / "shot.j2").write_text("")
    with pytest.raises(InputError) as info:
        load_format(tmp_path, "bad-format")
    assert str(folder / "format.yaml") in str(info.value)
    assert "timing.fps: Input should be greater than 0 (got 0)" in str(info.value)


def test_template_missing_a_field_macro_is_named(tmp_path: Path, aurora: BrandKit) -> None:
    folder = tmp_path / "social-teaser-15"
    folder.mkdir()
    (folder / "format.yaml").write_text(
        (TEMPLATES / "social-teaser-15" / "format.yaml").read_text()
    )
    (folder / "shot.j2").write_text("{% macro subject() %}a cup{% endmacro %}")
    fmt = load_format(tmp_path, "social-teaser-15")
    brief = Brief.model_validate(brief_data())
    with pytest.raises(InputError, match=r"action: the template defines no such macro"):
        expand(brief, aurora, fmt, limits=clip_limits("animatic"))


# --------------------------------------------------------------------------- frame allocation


@pytest.mark.parametrize("total", [48, 144, 361, 720, 1441])
@pytest.mark.parametrize("weights", [[3, 4, 3], [1, 1, 1], [1, 5, 1, 2], [0.3, 0.3, 0.4]])
def test_allocate_frames_is_exact(total: int, weights: list[float]) -> None:
    frames = allocate_frames(total, weights, 12)
    assert sum(frames) == total
    assert min(frames) >= 12
    exact = [12 + (total - 12 * len(weights)) * w / sum(weights) for w in weights]
    assert all(abs(f - e) < 1 for f, e in zip(frames, exact, strict=True))


def test_allocate_frames_caps_and_redistributes() -> None:
    frames = allocate_frames(300, [10, 1, 1], 10, 120)
    assert frames[0] == 120 and sum(frames) == 300
    assert frames[1] == frames[2] == 90


def test_allocate_frames_refuses_impossible_bounds() -> None:
    with pytest.raises(ValueError, match="cannot be 3 shots of 4-"):
        allocate_frames(10, [1, 1, 1], 4)
    with pytest.raises(ValueError, match="cannot be 3 shots of 1-3 frames"):
        allocate_frames(10, [1, 1, 1], 1, 3)
