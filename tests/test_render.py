from __future__ import annotations

from pathlib import Path

import numpy as np

from reelfactory.models import AspectRatio, BrandKit, Brief, Shot, ShotDirection
from reelfactory.render import Renderer, RenderRequest, RenderStats, get_renderer, requests_for
from reelfactory.render.cache import render_cached, shot_cache_key
from reelfactory.storage import LocalAssetStore
from tests.conftest import shot_list_for
from tests.media_checks import frame_at, probe

DIRECTION = ShotDirection(
    subject="a barista",
    action="pours latte art",
    setting="a cafe at dawn",
    framing="close-up",
    movement="slow push-in",
    lighting="window light",
    lens="50 mm",
)


def request(kit: BrandKit, **shot_overrides: object) -> RenderRequest:
    shot = Shot(
        index=0,
        role="hook",
        name="hook",
        direction=DIRECTION,
        prompt="A barista pours latte art at dawn.",
        caption="Hi",
        frames=30,
        fps=24,
        seed=7,
    ).model_copy(update=shot_overrides)
    return RenderRequest(
        shot=shot,
        prompt=shot.prompt,
        shot_count=3,
        width=128,
        height=72,
        palette=kit.palette,
        font=kit.font,
    )


def test_animatic_clip_has_exact_frames_size_and_brand_colours(
    tmp_path: Path, aurora: BrandKit
) -> None:
    out = tmp_path / "shot.mp4"
    get_renderer("animatic").render(request(aurora), out)
    p = probe(out)
    assert (p.width, p.height, p.frames, p.video_codec) == (128, 72, 30, "h264")
    first, last = frame_at(out, 0), frame_at(out, 29)
    assert not np.array_equal(first, last), "the camera should move"
    # The bottom rows fade into the brand's primary colour (#6b3e26).
    bottom = first[-3:, 40:].reshape(-1, 3).mean(axis=0)
    assert np.allclose(bottom, [0x6B, 0x3E, 0x26], atol=25)


def test_animatic_is_labelled(aurora: BrandKit) -> None:
    from reelfactory.render.animatic import AnimaticRenderer

    badge = np.asarray(AnimaticRenderer().label(request(aurora)))
    # A dark translucent box with white text in it.
    assert badge[..., 3].min() >= 150
    assert (badge[..., :3] > 200).any()


def test_cache_key_covers_what_changes_pixels(aurora: BrandKit) -> None:
    base = request(aurora)
    key = shot_cache_key("animatic", base)
    assert key == shot_cache_key("animatic", request(aurora))
    changed = [
        request(aurora, prompt="Different"),
        request(aurora, seed=8),
        request(aurora, frames=31),
        base.model_copy(update={"width": 130}),
    ]
    assert len({key, *(shot_cache_key("animatic", r) for r in changed)}) == 5
    assert shot_cache_key("other-renderer", base) != key


class CountingRenderer:
    """The real animatic renderer, counting how often it is asked to render."""

    def __init__(self, inner: Renderer) -> None:
        self.inner = inner
        self.name, self.revision = inner.name, inner.revision
        self.calls = 0

    def render(self, request: RenderRequest, out_path: Path) -> RenderStats | None:
        self.calls += 1
        return self.inner.render(request, out_path)


def test_render_cached_renders_once_and_reuses(tmp_path: Path, aurora: BrandKit) -> None:
    renderer = CountingRenderer(get_renderer("animatic"))
    store = LocalAssetStore(tmp_path / "assets")
    first = render_cached(renderer, request(aurora), store)
    again = render_cached(renderer, request(aurora), store)
    other = render_cached(renderer, request(aurora, prompt="Something else"), store)
    assert (first.reused, again.reused, other.reused) == (False, True, False)
    assert renderer.calls == 2
    # The animatic's cost is CPU seconds; the reused clip reports what its render took.
    assert first.stats is not None and first.stats.device == "cpu" and first.stats.render_s > 0
    assert again.stats == first.stats
    assert again.ref == first.ref and other.ref.sha256 != first.ref.sha256
    assert (first.ref.width, first.ref.height) == (128, 72)
    assert sorted(p.name for p in (tmp_path / "assets" / "shots").glob("*.mp4")) == sorted(
        [f"{shot_cache_key('animatic@2', request(aurora))}.mp4", other.ref.uri.rsplit("/", 1)[1]]
    )
    # A renderer that now draws differently does not reuse what its old revision drew.
    renderer.revision = "3"
    assert not render_cached(renderer, request(aurora), store).reused


def test_requests_for_frames_every_shot_for_the_ratio(aurora: BrandKit, brief: Brief) -> None:
    shots = shot_list_for(brief, aurora)
    reqs = requests_for(shots, aurora, AspectRatio.PORTRAIT, 720)
    assert [r.shot for r in reqs] == shots.shots
    assert [r.prompt for r in reqs] == [s.prompt_for(AspectRatio.PORTRAIT) for s in shots.shots]
    assert all("Framing for 9:16: vertical" in r.prompt for r in reqs)
    assert {(r.width, r.height, r.shot_count) for r in reqs} == {(720, 1280, len(shots.shots))}
    assert reqs[0].palette == aurora.palette and reqs[0].font == aurora.font
