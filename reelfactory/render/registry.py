"""The text-to-video model registry: what each diffusers model can make, and how to load it.

Pure data and decisions: no torch, no diffusers. The embedded default is
``reelfactory/data/models.yaml``; ``REEL_MODEL_REGISTRY`` names a YAML file whose entries are
added to it (an entry with a known name replaces it). Everything here is checked before a GPU
is touched: an unknown model, a size or a clip length it cannot make fails with the allowed
values.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from reelfactory.errors import InputError
from reelfactory.models import AspectRatio

EMBEDDED = Path(__file__).parent.parent / "data" / "models.yaml"
DType = Literal["bfloat16", "float16", "float32"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FrameRule(_Frozen):
    """The frame counts a model makes: ``min``, ``min + step``, ... up to ``max``."""

    min: int = Field(gt=0)
    max: int = Field(gt=0)
    step: int = Field(default=1, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> FrameRule:
        if self.max < self.min:
            raise ValueError(f"max {self.max} is below min {self.min}")
        return self

    @property
    def largest(self) -> int:
        return self.min + (self.max - self.min) // self.step * self.step

    def allows(self, frames: int) -> bool:
        return self.min <= frames <= self.max and (frames - self.min) % self.step == 0

    def at_least(self, frames: int) -> int | None:
        """The smallest count this model makes that is ``>= frames``; None past the largest."""
        if frames <= self.min:
            return self.min
        count = self.min + math.ceil((frames - self.min) / self.step) * self.step
        return count if count <= self.max else None

    def describe(self) -> str:
        if self.min == self.largest:
            return str(self.min)
        form = f" ({self.step}k+{self.min % self.step})" if self.step > 1 else ""
        return f"{self.min}, {self.min + self.step}, ... {self.largest}{form}"


class ModelSpec(_Frozen):
    """One text-to-video model: the diffusers class, where its weights are, what it can make."""

    name: str
    pipeline: Literal["LTXPipeline", "WanPipeline", "CogVideoXPipeline"]
    source: str = Field(description="Hub model id, or a local directory (absolute or ./).")
    revision: str | None = Field(default=None, description="Hub revision; pins the weights.")
    dtype: DType = Field(default="bfloat16", description="On GPU; CPU always uses float32.")
    vae_dtype: DType | None = Field(default=None, description="Load the VAE apart, in this.")
    steps: int = Field(gt=0)
    guidance: float = Field(ge=0)
    fps: int = Field(gt=0, description="The frame rate the model was trained for.")
    frames: FrameRule
    sizes: dict[AspectRatio, tuple[int, int]] = Field(
        min_length=1, description="Width x height the model renders for each aspect ratio."
    )
    max_sequence_length: int | None = Field(default=None, gt=0)
    cpu_offload: bool = False
    vae_tiling: bool = False
    vae_slicing: bool = False
    compile: bool = Field(default=False, description="torch.compile the transformer (GPU).")
    vram_note: str = ""

    @property
    def is_local(self) -> bool:
        return self.source.startswith(("/", "./", "../", "~"))

    def size(self, ratio: AspectRatio) -> tuple[int, int]:
        if ratio not in self.sizes:
            made = ", ".join(f"{r.value} ({w}x{h})" for r, (w, h) in self.sizes.items())
            raise InputError(
                "render", [f"aspect_ratios: {self.name} cannot make {ratio.value}; it makes {made}"]
            )
        return self.sizes[ratio]

    def max_seconds(self) -> float:
        return self.frames.largest / self.fps

    def model_frames(self, frames: int, fps: int) -> int:
        """The frames to generate so that ``frames`` at ``fps`` are covered, or InputError."""
        wanted = math.ceil(frames * self.fps / fps - 1e-9)
        count = self.frames.at_least(wanted)
        if count is None:
            raise InputError(
                "render",
                [
                    f"frames: {frames} at {fps} fps is {frames / fps:.2f} s; {self.name} makes "
                    f"at most {self.max_seconds():.2f} s ({self.frames.describe()} frames at "
                    f"{self.fps} fps)"
                ],
            )
        return count

    def check(self, width: int, height: int, frames: int, fps: int) -> int:
        """Fail fast, naming the allowed values; return the frame count to generate."""
        if (width, height) not in self.sizes.values():
            made = ", ".join(f"{w}x{h}" for w, h in self.sizes.values())
            raise InputError(
                "render", [f"size: {self.name} cannot make {width}x{height}; it makes {made}"]
            )
        return self.model_frames(frames, fps)


class Registry(_Frozen):
    models: dict[str, ModelSpec]

    def get(self, name: str) -> ModelSpec:
        if name not in self.models:
            raise InputError(
                "settings",
                [
                    f"renderer: unknown renderer {name!r} "
                    f"(known: animatic, {', '.join(self.names())})"
                ],
            )
        return self.models[name]

    def names(self) -> list[str]:
        return sorted(self.models)


def _read(path: Path) -> dict[str, ModelSpec]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(str(path), [f"cannot read the model registry: {exc}"]) from None
    entries = raw.get("models") if isinstance(raw, dict) else None
    if not isinstance(entries, dict):
        raise InputError(str(path), ["models: expected a mapping of model name -> entry"])
    out, problems = {}, []
    for name, entry in entries.items():
        try:
            out[str(name)] = ModelSpec.model_validate({"name": name, **(entry or {})})
        except ValidationError as exc:
            for err in exc.errors():
                where = ".".join(str(p) for p in err["loc"])
                problems.append(f"models.{name}.{where}: {err['msg']} (got {err.get('input')!r})")
    if problems:
        raise InputError(str(path), problems)
    return out


def load_registry(extra: Path | None = None) -> Registry:
    """The embedded models, plus (and overridden by) those in ``extra``."""
    models = _read(EMBEDDED)
    if extra is not None:
        models.update(_read(extra))
    return Registry(models=models)
