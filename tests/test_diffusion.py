"""The diffusers backend on tiny, randomly initialised Wan and LTX pipelines built offline.

Everything goes through the real code path: the registry entry names the saved directory,
the backend loads it with ``from_pretrained``, generates, resamples to the shot's frame rate
and encodes the clip. Only the weights are tiny (the output is noise).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reelfactory.errors import InputError
from reelfactory.models import BrandKit
from reelfactory.render import RenderRequest, get_renderer
from reelfactory.render.cache import render_cached
from reelfactory.render.diffusion import DiffusersRenderer, RenderError, resample
from reelfactory.settings import Settings
from reelfactory.storage import LocalAssetStore
from tests.media_checks import frame_at, probe
from tests.test_render import request
from tests.tiny_pipelines import build_tiny_pipeline, registry_entry, write_registry

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tiny-models")
    wan = build_tiny_pipeline("wan", root / "wan")
    ltx = build_tiny_pipeline("ltx", root / "ltx")
    entries = {"tiny-wan": registry_entry("wan", wan), "tiny-ltx": registry_entry("ltx", ltx)}
    return write_registry(root / "models.yaml", entries)


def settings_for(models: Path, tmp_path: Path, warm: int = 2) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        model_registry=models,
        render_device="cpu",
        warm_pipelines=warm,
    )


def tiny_request(kit: BrandKit, **shot: object) -> RenderRequest:
    # 1 s by default: 8 frames at the tiny models' 8 fps, so 9 generated (4k+1).
    base = request(kit, **{"frames": 24, "fps": 24, **shot})
    return base.model_copy(update={"width": 64, "height": 32})


def renderer(name: str, models: Path, tmp_path: Path, warm: int = 2) -> DiffusersRenderer:
    made = get_renderer(name, settings_for(models, tmp_path, warm))
    assert isinstance(made, DiffusersRenderer)
    return made


def test_a_shot_renders_through_from_pretrained_at_the_shots_rate(
    models: Path, tmp_path: Path, aurora: BrandKit
) -> None:
    wan = renderer("tiny-wan", models, tmp_path)
    out = tmp_path / "shot.mp4"
    stats = wan.render(tiny_request(aurora), out)

    p = probe(out)
    assert (p.width, p.height, p.fps, p.frames) == (64, 32, 24, 24)
    assert p.duration_s == pytest.approx(1.0, abs=0.05)
    assert stats.renderer == "tiny-wan" and stats.steps == 2 and stats.device == "cpu"
    assert stats.frames_generated == 9  # 1 s at 8 fps, rounded up to 4k+1
    assert stats.gpu_s == 0.0 and stats.peak_vram_bytes is None and stats.render_s > 0
    assert frame_at(out, 0).std() > 5  # noise from a random model, not a blank frame


def test_the_same_seed_gives_the_same_clip_and_another_seed_does_not(
    models: Path, tmp_path: Path, aurora: BrandKit
) -> None:
    wan = renderer("tiny-wan", models, tmp_path)
    paths = {name: tmp_path / f"{name}.mp4" for name in ("a", "b", "c")}
    wan.render(tiny_request(aurora, seed=11), paths["a"])
    wan.render(tiny_request(aurora, seed=11), paths["b"])
    wan.render(tiny_request(aurora, seed=12), paths["c"])
    first, again, other = (frame_at(paths[n], 12).astype(int) for n in ("a", "b", "c"))
    assert np.array_equal(first, again)
    assert np.abs(first - other).mean() > 1  # a tiny random VAE: small, but far from 0


def test_one_load_serves_many_shots_and_the_lru_evicts(
    models: Path, tmp_path: Path, aurora: BrandKit
) -> None:
    wan = renderer("tiny-wan", models, tmp_path, warm=1)
    wan.pool.pipes.clear()
    loads = wan.pool.loads
    stats = [
        wan.render(tiny_request(aurora, index=i, seed=i), tmp_path / f"{i}.mp4") for i in range(3)
    ]
    assert wan.pool.loads - loads == 1  # three shots, one from_pretrained
    assert stats[0].load_s > 0 and stats[1].load_s == stats[2].load_s == 0

    # One pipeline per device at warm_pipelines=1: LTX pushes Wan out, Wan comes back cold.
    ltx = renderer("tiny-ltx", models, tmp_path, warm=1)
    assert ltx.pool is wan.pool
    ltx.render(tiny_request(aurora), tmp_path / "ltx.mp4")
    assert [k.split("@")[0] for k in wan.pool.pipes] == ["tiny-ltx"]
    assert wan.render(tiny_request(aurora), tmp_path / "back.mp4").load_s > 0
    assert wan.pool.loads - loads == 3


def test_the_shot_cache_skips_the_pipeline_and_keeps_the_cost(
    models: Path, tmp_path: Path, aurora: BrandKit
) -> None:
    wan = renderer("tiny-wan", models, tmp_path)
    store = LocalAssetStore(tmp_path / "assets")
    first = render_cached(wan, tiny_request(aurora, seed=21), store)
    loads, cached = wan.pool.loads, first.ref.uri
    assert not first.reused and first.stats is not None
    # The cost of the render is kept beside its clip for cost reports.
    key = Path(cached.removeprefix("file://")).with_suffix(".json")
    assert key.is_file() and '"frames_generated": 9' in key.read_text()

    again = render_cached(wan, tiny_request(aurora, seed=21), store)
    # Reused: nothing rendered; it reports what the first render cost (what reuse saved).
    assert again.reused and again.stats == first.stats and again.ref == first.ref
    assert wan.pool.loads == loads
    changed = render_cached(wan, tiny_request(aurora, seed=22), store)
    assert not changed.reused and changed.ref.sha256 != first.ref.sha256


def test_the_cache_key_moves_with_the_models_steps_and_weights(
    models: Path, tmp_path: Path
) -> None:
    wan = renderer("tiny-wan", models, tmp_path)
    faster = DiffusersRenderer(wan.spec.model_copy(update={"steps": 1}), device="cpu")
    assert faster.revision != wan.revision
    config = Path(wan.spec.source) / "transformer" / "config.json"
    original = config.read_text()
    try:
        config.write_text(original.replace("{", '{"_note": "retrained",', 1))
        assert DiffusersRenderer(wan.spec, device="cpu").revision != wan.revision
    finally:
        config.write_text(original)


def test_what_the_model_cannot_make_fails_before_any_load(
    models: Path, tmp_path: Path, aurora: BrandKit
) -> None:
    wan = renderer("tiny-wan", models, tmp_path)
    wan.pool.pipes.clear()
    loads = wan.pool.loads
    with pytest.raises(InputError, match=r"size: tiny-wan cannot make 128x72; it makes 64x32"):
        wan.render(request(aurora, frames=24, fps=24), tmp_path / "x.mp4")
    with pytest.raises(InputError, match=r"frames: 120 at 24 fps is 5.00 s; tiny-wan makes at"):
        wan.render(tiny_request(aurora, frames=120), tmp_path / "x.mp4")
    assert wan.pool.loads == loads and not (tmp_path / "x.mp4").exists()

    missing = wan.spec.model_copy(update={"source": str(tmp_path / "nowhere")})
    with pytest.raises(InputError, match=r"models.tiny-wan.source: .*nowhere.*\(no model_index"):
        DiffusersRenderer(missing, device="cpu")
    with pytest.raises(InputError, match=r"unknown renderer 'tiny-sora'"):
        get_renderer("tiny-sora", settings_for(models, tmp_path))


def test_resampling_holds_each_generated_frame_for_its_time() -> None:
    assert resample(9, 8, 24, 24) == [i // 3 for i in range(24)]
    assert resample(9, 24, 12, 12) == [2 * i if 2 * i < 9 else 8 for i in range(12)]


def test_the_memory_options_load_and_render(models: Path, tmp_path: Path, aurora: BrandKit) -> None:
    wan = renderer("tiny-wan", models, tmp_path)
    lean = DiffusersRenderer(
        wan.spec.model_copy(update={"vae_tiling": True, "vae_slicing": True}), device="cpu"
    )
    assert lean.revision != wan.revision  # tiled decoding can change pixels: another key
    sliced = DiffusersRenderer(wan.spec.model_copy(update={"vae_slicing": True}), device="cpu")
    assert sliced.revision == wan.revision  # slicing the batch does not
    lean.render(tiny_request(aurora), tmp_path / "lean.mp4")
    pipe = lean.pool.pipes[f"tiny-wan@{lean.revision}"]
    assert pipe.vae.use_tiling
    assert probe(tmp_path / "lean.mp4").frames == 24


class OutOfMemory:
    """Stands in for a diffusers pipeline on a GPU that runs out of memory mid-generation."""

    def __call__(self, **kwargs: object) -> None:
        import torch

        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")


def test_out_of_memory_names_the_shot_frees_the_model_and_the_worker_goes_on(
    models: Path, tmp_path: Path, aurora: BrandKit
) -> None:
    wan = renderer("tiny-wan", models, tmp_path)
    key = f"tiny-wan@{wan.revision}"
    wan.render(tiny_request(aurora), tmp_path / "warm.mp4")
    wan.pool.pipes[key] = OutOfMemory()
    with pytest.raises(RenderError, match=r"shot 4: out of GPU memory rendering 64x32x9 frames"):
        wan.render(tiny_request(aurora, index=3), tmp_path / "oom.mp4")
    assert key not in wan.pool.pipes and not (tmp_path / "oom.mp4").exists()
    loads = wan.pool.loads
    assert wan.render(tiny_request(aurora), tmp_path / "after.mp4").load_s > 0  # reloaded
    assert wan.pool.loads == loads + 1
