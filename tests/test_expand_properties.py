"""Property tests over random briefs: timing, frame alignment, seeds, and template safety."""

from __future__ import annotations

import unicodedata

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from reelfactory.expand import allocate_frames, frame_bounds, one_line, shot_seed
from reelfactory.formats import load_format
from reelfactory.models import BrandKit, Brief
from reelfactory.render import clip_limits
from reelfactory.rewrite import rewrite_text, rules_for
from reelfactory.settings import PROJECT_ROOT
from tests.conftest import brief_data, shot_list_for

TEMPLATES = PROJECT_ROOT / "templates"
FORMATS = ["social-teaser-15", "product-spot-30", "training-explainer-60"]
TEMPLATE_SYNTAX = ["{{", "}}", "{%", "%}", "{#", "#}", "7*7", "range(9)", "self", "__class__", "|"]

plain = st.text(
    alphabet=st.characters(codec="ascii", categories=["L", "N", "P", "S", "Zs"]), max_size=40
)
hostile = (
    st.lists(st.one_of(plain, st.sampled_from(TEMPLATE_SYNTAX)), min_size=1, max_size=8)
    .map("".join)
    .filter(lambda s: s.strip() != "")
)


@st.composite
def briefs(draw: st.DrawFn) -> Brief:
    fmt_id = draw(st.sampled_from(FORMATS))
    fmt = load_format(TEMPLATES, fmt_id)
    steps = [f"step {i}" for i in range(draw(st.integers(3, 5)))] if fmt.steps is not None else []
    n_shots = len(fmt.shots) - 1 + len(steps) if steps else len(fmt.shots)
    lo, hi = frame_bounds(fmt, clip_limits("animatic"))
    fps = fmt.timing.fps
    frames = draw(
        st.integers(
            max(n_shots * lo, round(fmt.timing.duration_s.min * fps)),
            min(n_shots * hi, round(fmt.timing.duration_s.max * fps)),
        )
    )
    brief_id = draw(st.from_regex(r"[a-z0-9][a-z0-9-]{2,20}[a-z0-9]", fullmatch=True))
    return Brief.model_validate(
        brief_data(id=brief_id, format=fmt_id, duration_s=frames / fps, steps=steps)
    )


@settings(max_examples=60, deadline=None)
@given(brief=briefs())
def test_any_brief_fills_its_duration_exactly(aurora: BrandKit, brief: Brief) -> None:
    shots = shot_list_for(brief, aurora)
    fmt = load_format(TEMPLATES, brief.format)
    lo, hi = frame_bounds(fmt, clip_limits("animatic"))
    assert shots.total_frames + shots.edit_frames == round(brief.duration_s * shots.fps)
    assert abs(shots.duration_s - brief.duration_s) < 1e-9
    assert all(lo <= s.frames <= hi for s in shots.shots)
    assert [s.index for s in shots.shots] == list(range(len(shots.shots)))
    assert [s.seed for s in shots.shots] == [
        shot_seed(brief.brief_id, i) for i in range(len(shots.shots))
    ]
    assert shot_list_for(brief, aurora) == shots  # deterministic, seeds included


@settings(max_examples=200, deadline=None)
@given(
    weights=st.lists(st.floats(0.05, 20), min_size=1, max_size=8),
    lo=st.integers(1, 48),
    span=st.integers(0, 400),
    data=st.data(),
)
def test_allocation_is_exact_and_bounded(
    weights: list[float], lo: int, span: int, data: st.DataObject
) -> None:
    hi = lo + span
    n = len(weights)
    total = data.draw(st.integers(n * lo, n * hi))
    frames = allocate_frames(total, weights, lo, hi)
    assert sum(frames) == total
    assert all(lo <= f <= hi for f in frames)


@settings(max_examples=80, deadline=None)
@given(message=hostile, title=hostile, audience=hostile)
def test_no_brief_field_ever_executes_as_a_template(
    aurora: BrandKit, message: str, title: str, audience: str
) -> None:
    rules = rules_for(aurora)
    for text in (message, title, audience):  # a random "Coke" would be rewritten, rightly
        assume(not rewrite_text(text, rules, shot_index=0, field="x")[1])
    brief = Brief.model_validate(brief_data(message=message, title=title, audience=audience))
    shots = shot_list_for(brief, aurora)

    def literal(text: str) -> str:
        return one_line(unicodedata.normalize("NFKC", text))

    hook, product = shots.shots[0], shots.shots[1]
    assert literal(brief.audience) in hook.prompt
    assert literal(brief.message) in hook.prompt
    assert literal(brief.title) in product.prompt
    assert hook.caption == brief.message  # captions are the copy, verbatim
