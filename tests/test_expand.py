from __future__ import annotations

from pathlib import Path

import pytest

from reelfactory.errors import InputError
from reelfactory.expand import allocate_frames, expand, load_format
from reelfactory.models import BrandKit, Brief
from reelfactory.settings import PROJECT_ROOT
from tests.conftest import brief_data

TEMPLATES = PROJECT_ROOT / "templates"


def shot_list_for(kit: BrandKit, **overrides: object):  # type: ignore[no-untyped-def]
    brief = Brief.model_validate(brief_data(**overrides))
    return expand(brief, kit, load_format(TEMPLATES, brief.format))


@pytest.mark.parametrize("duration", [6, 7.5, 10, 12, 15, 20.5, 30])
def test_durations_sum_exactly(aurora: BrandKit, duration: float) -> None:
    shots = shot_list_for(aurora, duration_s=duration)
    assert shots.total_frames == duration * shots.fps
    assert shots.duration_s == duration
    assert all(s.frames >= 1.5 * shots.fps for s in shots.shots)
    assert [s.role for s in shots.shots] == ["hook", "product", "cta"]


def test_shots_are_detailed_and_carry_captions(aurora: BrandKit) -> None:
    shots = shot_list_for(aurora).shots
    for shot in shots:
        assert "Camera:" in shot.prompt and "Lighting:" in shot.prompt
        assert aurora.palette.primary in shot.prompt
        assert "watermark" in shot.negative_prompt
    assert shots[0].caption == "Slow mornings taste better with Sunrise Blend."
    assert shots[2].caption == "Order at aurora.example"


def test_seeds_are_deterministic_and_distinct(aurora: BrandKit) -> None:
    a, b = shot_list_for(aurora), shot_list_for(aurora)
    assert [s.seed for s in a.shots] == [s.seed for s in b.shots]
    assert len({s.seed for s in a.shots}) == len(a.shots)
    other = shot_list_for(aurora, id="another-brief")
    assert [s.seed for s in other.shots] != [s.seed for s in a.shots]


@pytest.mark.parametrize(
    "payload",
    ["{{ 7*7 }}", "{% for x in range(3) %}x{% endfor %}", "{{ ''.__class__.__mro__ }}"],
)
def test_brief_text_is_data_not_template(aurora: BrandKit, payload: str) -> None:
    shots = shot_list_for(aurora, message=f"Try {payload} today", title=payload).shots
    assert payload in shots[0].prompt
    assert shots[0].caption == f"Try {payload} today"
    assert payload in shots[1].prompt
    assert "49" not in shots[0].prompt
    assert "xxx" not in shots[0].prompt


def test_duration_outside_format_range(aurora: BrandKit) -> None:
    with pytest.raises(
        InputError, match=r"duration_s: 45 s is outside the 'social-teaser-15' range 6-30 s"
    ):
        shot_list_for(aurora, duration_s=45)


def test_duration_must_be_whole_frames(aurora: BrandKit) -> None:
    with pytest.raises(
        InputError, match=r"duration_s: 15.01 s is not a whole number of frames at 24 fps"
    ):
        shot_list_for(aurora, duration_s=15.01)


def test_unknown_template_lists_known_ones() -> None:
    with pytest.raises(
        InputError, match=r"format: unknown template 'opera-3h' \(known: .*social-teaser-15"
    ):
        load_format(TEMPLATES, "opera-3h")


def test_broken_format_yaml_names_file_and_field(tmp_path: Path) -> None:
    folder = tmp_path / "bad-format"
    folder.mkdir()
    (folder / "format.yaml").write_text(
        "id: bad-format\nname: Bad\nfps: 0\nduration_s: {min: 5, max: 9}\n"
        "min_shot_s: 1\nshots: [{role: a, weight: 1}]\n"
    )
    with pytest.raises(InputError) as info:
        load_format(tmp_path, "bad-format")
    assert str(folder / "format.yaml") in str(info.value)
    assert "fps: Input should be greater than 0 (got 0)" in str(info.value)


@pytest.mark.parametrize("total", [48, 144, 361, 720, 1441])
@pytest.mark.parametrize("weights", [[3, 4, 3], [1, 1, 1], [1, 5, 1, 2], [0.3, 0.3, 0.4]])
def test_allocate_frames_is_exact(total: int, weights: list[float]) -> None:
    frames = allocate_frames(total, weights, minimum=12)
    assert sum(frames) == total
    assert min(frames) >= 12
    exact = [12 + (total - 12 * len(weights)) * w / sum(weights) for w in weights]
    assert all(abs(f - e) < 1 for f, e in zip(frames, exact, strict=True))


def test_allocate_frames_refuses_impossible_minimum() -> None:
    with pytest.raises(ValueError, match="cannot hold"):
        allocate_frames(10, [1, 1, 1], minimum=4)
