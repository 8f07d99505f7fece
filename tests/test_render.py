from __future__ import annotations

from pathlib import Path

import numpy as np

from reelfactory.models import BrandKit, Shot
from reelfactory.render import RenderRequest, get_renderer
from reelfactory.render.cache import shot_cache_key
from tests.media_checks import frame_at, probe


def request(kit: BrandKit, **shot_overrides: object) -> RenderRequest:
    shot = Shot(index=0, role="hook", prompt="A barista pours latte art at dawn.", caption="Hi",
                frames=30, fps=24, seed=7)
    return RenderRequest(shot=shot.model_copy(update=shot_overrides), shot_count=3, width=128,
                         height=72, palette=kit.palette, font=kit.font)


def test_animatic_clip_has_exact_frames_size_and_brand_colours(tmp_path: Path, aurora: BrandKit) -> None:
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
