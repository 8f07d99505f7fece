"""Tiny, randomly initialised text-to-video diffusers pipelines (Wan, LTX-Video, CogVideoX).

They are for tests and a CPU benchmark of the diffusers backend: each is built from small
configs with fixed seeds, saved with ``save_pretrained`` and then loads offline with
``DiffusionPipeline.from_pretrained`` (the Hugging Face hub is never reached). The frames are
noise, but shapes, input checks and seeded determinism are those of the real pipelines. The
tokenizer is a file-less ``ByT5Tokenizer`` (one token per UTF-8 byte).

The VAE compression and patch sizes are the real models', and so are the size rules:

=========  ===============  ===========================================  ==============
kind       width, height    num_frames f: kept if ..., otherwise becomes  smallest w,h,f
=========  ===============  ===========================================  ==============
wan        multiples of 16  4k+1; else 4*(f//4)+1, with a warning        16, 16, 1 (5)
ltx        multiples of 32  8k+1; else 8*((f-1)//8)+1, silently          32, 32, 1 (9)
cogvideox  multiples of 16  8k or 8k+1; else (below), silently           16, 16, 1 (8)
=========  ===============  ===========================================  ==============

CogVideoX denoises L = (f-1)//4+1 latent frames and decodes them to 4L frames if L is even, to
4L-3 if L is odd (so 5 frames give 8, 12 give 9). Other widths or heights raise a ValueError in
``check_inputs`` (Wan, LTX) or, for CogVideoX, whose check only asks for multiples of 8, a shape
RuntimeError mid-denoising. ``TINY_CALL`` suits every kind and takes well under a second on a
CPU. Each pipeline works with its default ``max_sequence_length`` (Wan 512, LTX 128, CogVideoX
226); CogVideoX with no other value.
Loading the Wan pipeline needs ``accelerate``: diffusers refuses to load ``WanTransformer3DModel``
(it has ``_keep_in_fp32_modules``) with ``low_cpu_mem_usage=False``, its fallback without it.
"""

# mypy resolves diffusers' classes to its untyped dummy objects, so pipelines are typed Any.
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TypeVar

import torch
from diffusers import (
    AutoencoderKLCogVideoX,
    AutoencoderKLLTXVideo,
    AutoencoderKLWan,
    CogVideoXDDIMScheduler,
    CogVideoXPipeline,
    CogVideoXTransformer3DModel,
    FlowMatchEulerDiscreteScheduler,
    LTXPipeline,
    LTXVideoTransformer3DModel,
    WanPipeline,
    WanTransformer3DModel,
)
from transformers import ByT5Tokenizer, T5Config, T5EncoderModel, UMT5Config, UMT5EncoderModel

Kind = Literal["wan", "ltx", "cogvideox"]
Pipeline = Any  # a diffusers DiffusionPipeline
T = TypeVar("T")
C = TypeVar("C", T5Config, UMT5Config)

SEED = 0
TEXT_DIM = 32  # hidden size of the tiny text encoders, fed to each transformer
TINY_CALL: dict[str, int] = {"width": 64, "height": 32, "num_frames": 9}


def _seeded(make: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``make(*args, **kwargs)`` right after reseeding torch, so its random weights are fixed."""
    torch.manual_seed(SEED)
    return make(*args, **kwargs)


def _text_config(config_class: type[C]) -> C:
    return config_class(
        vocab_size=len(ByT5Tokenizer()),  # 384: 3 special tokens, 256 bytes, 125 extra ids
        d_model=TEXT_DIM,
        d_kv=8,
        d_ff=64,
        num_layers=2,
        num_heads=4,
        relative_attention_num_buckets=8,
        feed_forward_proj="gated-gelu",
    )


def build_wan() -> Pipeline:
    """Wan 2.1: VAE 8x spatial and 4x temporal compression, transformer patch (1, 2, 2)."""
    return WanPipeline(
        tokenizer=ByT5Tokenizer(),
        text_encoder=_seeded(UMT5EncoderModel, _text_config(UMT5Config)),
        vae=_seeded(
            AutoencoderKLWan,
            base_dim=4,
            z_dim=16,
            dim_mult=[1, 1, 1, 1],
            num_res_blocks=1,
            temperal_downsample=[False, True, True],
        ),
        transformer=_seeded(
            WanTransformer3DModel,
            patch_size=(1, 2, 2),
            num_attention_heads=2,
            attention_head_dim=12,
            in_channels=16,
            out_channels=16,
            text_dim=TEXT_DIM,
            freq_dim=32,
            ffn_dim=32,
            num_layers=2,
        ),
        scheduler=FlowMatchEulerDiscreteScheduler(shift=3.0),
    )


def build_ltx() -> Pipeline:
    """LTX-Video 0.9: VAE patch 4 then three 2x space-time steps (32x spatial, 8x temporal)."""
    scaling = (True, True, True, False)
    return LTXPipeline(
        tokenizer=ByT5Tokenizer(),
        text_encoder=_seeded(T5EncoderModel, _text_config(T5Config)),
        vae=_seeded(
            AutoencoderKLLTXVideo,
            latent_channels=8,
            block_out_channels=(8, 8, 8, 8),
            decoder_block_out_channels=(8, 8, 8, 8),
            layers_per_block=(1, 1, 1, 1, 1),
            decoder_layers_per_block=(1, 1, 1, 1, 1),
            spatio_temporal_scaling=scaling,
            decoder_spatio_temporal_scaling=scaling,
            patch_size=4,
            patch_size_t=1,
        ),
        transformer=_seeded(
            LTXVideoTransformer3DModel,
            in_channels=8,
            out_channels=8,
            num_attention_heads=2,
            attention_head_dim=8,
            cross_attention_dim=16,
            num_layers=1,
            caption_channels=TEXT_DIM,
        ),
        scheduler=FlowMatchEulerDiscreteScheduler(use_dynamic_shifting=True),
    )


def build_cogvideox() -> Pipeline:
    """CogVideoX 1.0: VAE 8x spatial and 4x temporal compression, transformer patch 2."""
    return CogVideoXPipeline(
        tokenizer=ByT5Tokenizer(),
        text_encoder=_seeded(T5EncoderModel, _text_config(T5Config)),
        vae=_seeded(
            AutoencoderKLCogVideoX,
            block_out_channels=(8, 8, 8, 8),
            latent_channels=4,
            layers_per_block=1,
            norm_num_groups=2,
            temporal_compression_ratio=4,
        ),
        transformer=_seeded(
            CogVideoXTransformer3DModel,
            num_attention_heads=2,
            attention_head_dim=16,  # 2 * 16 must be a multiple of 16 (3D sin-cos positions)
            in_channels=4,
            out_channels=4,
            time_embed_dim=8,
            text_embed_dim=TEXT_DIM,
            num_layers=1,
            sample_width=8,  # latent size of TINY_CALL, which is also the default call
            sample_height=4,
            sample_frames=9,
            patch_size=2,
            temporal_compression_ratio=4,
            max_text_seq_length=226,  # prompt embeddings must be exactly this long
        ),
        scheduler=CogVideoXDDIMScheduler(
            prediction_type="v_prediction", timestep_spacing="trailing", rescale_betas_zero_snr=True
        ),
    )


BUILDERS: dict[Kind, Callable[[], Pipeline]] = {
    "wan": build_wan,
    "ltx": build_ltx,
    "cogvideox": build_cogvideox,
}


def build_tiny_pipeline(kind: Kind, out_dir: Path) -> Path:
    """Build the tiny ``kind`` pipeline, put its modules in eval mode (no dropout, so seeded
    calls repeat exactly), save it under ``out_dir`` and return ``out_dir``."""
    pipe = BUILDERS[kind]()
    for component in pipe.components.values():
        if isinstance(component, torch.nn.Module):
            component.eval()
    pipe.save_pretrained(out_dir)
    return out_dir


_ENTRIES: dict[Kind, dict[str, Any]] = {
    "wan": {
        "pipeline": "WanPipeline",
        "guidance": 5.0,  # > 1: classifier-free guidance, so the negative prompt is used
        "fps": 8,
        "frames": {"min": 5, "max": 33, "step": 4},
        "sizes": {"16:9": [64, 32], "9:16": [32, 64], "1:1": [32, 32]},
    },
    "ltx": {
        "pipeline": "LTXPipeline",
        "guidance": 3.0,
        "fps": 12,
        "frames": {"min": 9, "max": 33, "step": 8},
        "sizes": {"16:9": [64, 32], "1:1": [32, 32]},
    },
    "cogvideox": {
        "pipeline": "CogVideoXPipeline",
        "guidance": 6.0,
        "fps": 8,
        "frames": {"min": 9, "max": 9},
        "sizes": {"16:9": [64, 32]},
    },
}


def registry_entry(kind: Kind, weights: Path, **changes: Any) -> dict[str, Any]:
    """A model registry entry (``reelfactory/data/models.yaml`` shape) for a saved tiny
    pipeline: float32, 2 steps, sizes and frame counts the tiny model makes cheaply."""
    return {**_ENTRIES[kind], "source": str(weights), "dtype": "float32", "steps": 2, **changes}


def write_registry(path: Path, entries: dict[str, dict[str, Any]]) -> Path:
    """Write ``entries`` as a registry file for ``REEL_MODEL_REGISTRY``; return its path."""
    import yaml

    path.write_text(yaml.safe_dump({"models": entries}))
    return path
