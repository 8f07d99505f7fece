"""The diffusers backend: text-to-video models from the registry, kept warm per worker.

The only module that imports torch and diffusers, and only when a model renderer is built.
A worker process loads each model once (``from_pretrained``, with the registry's dtype and
memory options) and keeps up to ``warm_pipelines`` of them in a least-recently-used pool per
device; one render at a time runs on a device (Prefect's global concurrency limit spreads
work across GPUs and workers). Every render reports what it cost (``RenderStats``).
"""

from __future__ import annotations

import gc
import hashlib
import json
import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from moviepy import VideoClip
from numpy.typing import NDArray

from reelfactory.errors import InputError
from reelfactory.media import clip_duration, write_video
from reelfactory.render import RenderRequest, RenderStats
from reelfactory.render.registry import ModelSpec

VAE_CLASS = {
    "LTXPipeline": "AutoencoderKLLTXVideo",
    "WanPipeline": "AutoencoderKLWan",
    "CogVideoXPipeline": "AutoencoderKLCogVideoX",
}


class RenderError(RuntimeError):
    """A model could not load or render; the message names the model and the shot."""


def resolve_device(device: Literal["auto", "cuda", "cpu"]) -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise InputError("settings", ["render_device: 'cuda' asked for, but torch sees no GPU"])
    return device


def dtype_name(spec: ModelSpec, device: str) -> str:
    """bf16/fp16 kernels are GPU kernels: on CPU everything runs in float32."""
    return spec.dtype if device == "cuda" else "float32"


def source_path(spec: ModelSpec) -> Path | None:
    """The local directory a spec names, checked before anything loads; None for hub ids."""
    if not spec.is_local:
        return None
    path = Path(spec.source).expanduser()
    if not (path / "model_index.json").is_file():
        raise InputError(
            "model_registry",
            [
                f"models.{spec.name}.source: {spec.source!r} is not a diffusers pipeline directory "
                "(no model_index.json)"
            ],
        )
    return path


def weights_fingerprint(path: Path) -> str:
    """Names and sizes of every file, and the text of every config: a local model's revision."""
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        rel = file.relative_to(path).as_posix()
        digest.update(f"{rel}\0{file.stat().st_size}\0".encode())
        if file.suffix == ".json":
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def revision_of(spec: ModelSpec, device: str) -> str:
    """Everything about the model that changes its pixels, for the shot cache key."""
    local = source_path(spec)
    weights = weights_fingerprint(local) if local else (spec.revision or "unpinned")
    facts = {
        "pipeline": spec.pipeline,
        "source": spec.source,
        "weights": weights,
        "dtype": dtype_name(spec, device),
        "vae_dtype": spec.vae_dtype if device == "cuda" else None,
        "steps": spec.steps,
        "guidance": spec.guidance,
        "fps": spec.fps,
        "max_sequence_length": spec.max_sequence_length,
        "vae_tiling": spec.vae_tiling,  # tiled decoding blends seams: other pixels
    }
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()[:16]


def load_pipeline(spec: ModelSpec, device: str) -> Any:
    """``from_pretrained`` with the registry's dtype and memory options, moved to ``device``."""
    import diffusers

    local = source_path(spec)
    where = str(local) if local else spec.source
    dtype = getattr(torch, dtype_name(spec, device))
    kwargs: dict[str, Any] = {"torch_dtype": dtype}
    if spec.revision and not local:
        kwargs["revision"] = spec.revision
    try:
        if spec.vae_dtype and device == "cuda":
            vae_cls = getattr(diffusers, VAE_CLASS[spec.pipeline])
            kwargs["vae"] = vae_cls.from_pretrained(
                where,
                subfolder="vae",
                torch_dtype=getattr(torch, spec.vae_dtype),
                **({"revision": spec.revision} if "revision" in kwargs else {}),
            )
        pipe = getattr(diffusers, spec.pipeline).from_pretrained(where, **kwargs)
    except (OSError, ValueError) as exc:
        raise RenderError(
            f"model {spec.name}: cannot load {spec.pipeline} from {where!r}: {exc}"
        ) from exc
    if spec.cpu_offload and device == "cuda":
        pipe.enable_model_cpu_offload()
    else:
        pipe.to(device)
    if spec.vae_tiling:
        pipe.vae.enable_tiling()
    if spec.vae_slicing and hasattr(pipe.vae, "enable_slicing"):
        pipe.vae.enable_slicing()
    if spec.compile and device == "cuda":
        pipe.transformer.compile()
    pipe.set_progress_bar_config(disable=True)
    return pipe


@dataclass
class WarmPipelines:
    """Loaded pipelines of one device, least recently used first; at most ``capacity``."""

    capacity: int
    loads: int = 0
    pipes: OrderedDict[str, Any] = field(default_factory=OrderedDict)
    lock: threading.Lock = field(default_factory=threading.Lock)  # one render at a time

    def get(self, spec: ModelSpec, device: str, revision: str) -> tuple[Any, float]:
        """The warm pipeline for ``spec`` and the seconds it took to load (0 when warm)."""
        key = f"{spec.name}@{revision}"
        if key in self.pipes:
            self.pipes.move_to_end(key)
            return self.pipes[key], 0.0
        while len(self.pipes) >= self.capacity:
            self.evict(next(iter(self.pipes)))
        started = time.perf_counter()
        pipe = load_pipeline(spec, device)
        self.loads += 1
        self.pipes[key] = pipe
        return pipe, time.perf_counter() - started

    def evict(self, key: str) -> None:
        self.pipes.pop(key, None)
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    def drop(self, spec: ModelSpec) -> None:
        for key in [k for k in self.pipes if k.startswith(f"{spec.name}@")]:
            self.evict(key)


_POOLS: dict[str, WarmPipelines] = {}
_POOLS_LOCK = threading.Lock()


def warm_pool(device: str, capacity: int) -> WarmPipelines:
    """This process's pool for ``device`` (created on first use, then shared)."""
    with _POOLS_LOCK:
        pool = _POOLS.get(device)
        if pool is None:
            pool = _POOLS[device] = WarmPipelines(capacity=capacity)
        pool.capacity = capacity
        return pool


def to_uint8(frames: Any) -> NDArray[np.uint8]:
    """The pipeline's ``output_type="np"`` frames (floats in [0, 1]) as uint8 RGB."""
    array = np.asarray(frames, dtype=np.float32)
    return np.round(np.clip(array, 0.0, 1.0) * 255.0).astype(np.uint8)


def resample(count: int, model_fps: int, frames: int, fps: int) -> list[int]:
    """Which generated frame shows at each of ``frames`` output frames (nearest earlier)."""
    return [min(count - 1, math.floor(i * model_fps / fps + 1e-9)) for i in range(frames)]


class DiffusersRenderer:
    """A registry model behind the ``Renderer`` protocol."""

    def __init__(
        self,
        spec: ModelSpec,
        *,
        device: Literal["auto", "cuda", "cpu"] = "auto",
        warm_pipelines: int = 1,
    ) -> None:
        self.spec = spec
        self.device = resolve_device(device)
        self.name = spec.name
        self.revision = revision_of(spec, self.device)
        self.pool = warm_pool(self.device, warm_pipelines)

    def check(self, request: RenderRequest) -> int:
        """The frames to generate for ``request``, or InputError with the allowed values."""
        shot = request.shot
        return self.spec.check(request.width, request.height, shot.frames, shot.fps)

    def render(self, request: RenderRequest, out_path: Path) -> RenderStats:
        spec, shot = self.spec, request.shot
        count = self.check(request)
        with self.pool.lock:
            pipe, load_s = self.pool.get(spec, self.device, self.revision)
            frames, render_s, peak = self._generate(pipe, request, count)
        picked = frames[resample(len(frames), spec.fps, shot.frames, shot.fps)]

        def frame_at(t: float) -> NDArray[np.uint8]:
            frame: NDArray[np.uint8] = picked[min(len(picked) - 1, round(t * shot.fps))]
            return frame

        clip = VideoClip(frame_function=frame_at, duration=clip_duration(shot.frames, shot.fps))
        write_video(clip, out_path, fps=shot.fps, audio=False, crf=18)
        return RenderStats(
            renderer=self.name,
            model=spec.source,
            steps=spec.steps,
            device=self.device,
            frames_generated=len(frames),
            load_s=round(load_s, 3),
            render_s=round(render_s, 3),
            gpu_s=round(render_s, 3) if self.device == "cuda" else 0.0,
            peak_vram_bytes=peak,
        )

    def call_kwargs(self, request: RenderRequest, count: int) -> dict[str, Any]:
        """The pipeline call for ``request``: ``count`` frames, the registry's steps/guidance."""
        spec, shot = self.spec, request.shot
        kwargs: dict[str, Any] = {
            "prompt": request.prompt,
            "negative_prompt": shot.negative_prompt or None,
            "width": request.width,
            "height": request.height,
            "num_frames": count,
            "num_inference_steps": spec.steps,
            "guidance_scale": spec.guidance,
            # A CPU generator: the same seed gives the same noise on any device.
            "generator": torch.Generator("cpu").manual_seed(shot.seed),
            "output_type": "np",
        }
        if spec.max_sequence_length:
            kwargs["max_sequence_length"] = spec.max_sequence_length
        return kwargs

    def _generate(
        self, pipe: Any, request: RenderRequest, count: int
    ) -> tuple[NDArray[np.uint8], float, int | None]:
        spec, shot = self.spec, request.shot
        kwargs = self.call_kwargs(request, count)
        on_gpu = self.device == "cuda"
        if on_gpu:
            torch.cuda.reset_peak_memory_stats()
        started = time.perf_counter()
        try:
            with torch.inference_mode():
                output = pipe(**kwargs)
            if on_gpu:
                torch.cuda.synchronize()
        except torch.cuda.OutOfMemoryError:
            used = torch.cuda.max_memory_allocated() if on_gpu else 0
            total = torch.cuda.get_device_properties(0).total_memory if on_gpu else 0
            self.pool.drop(spec)  # free what it held: the worker stays usable
            raise RenderError(
                f"shot {shot.index + 1}: out of GPU memory rendering {request.width}x"
                f"{request.height}x{count} frames with {spec.name} (peak {used / 2**30:.1f} GiB "
                f"of {total / 2**30:.1f} GiB); {spec.vram_note or 'try cpu_offload: true'}"
            ) from None
        render_s = time.perf_counter() - started
        peak = int(torch.cuda.max_memory_allocated()) if on_gpu else None
        frames = to_uint8(output.frames[0])
        if frames.shape[0] != count or frames.shape[1:3] != (request.height, request.width):
            raise RenderError(
                f"shot {shot.index + 1}: {spec.name} returned frames of shape {frames.shape}, "
                f"asked for {count}x{request.height}x{request.width}"
            )
        return frames, render_s, peak
