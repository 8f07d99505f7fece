"""Tiny randomly initialised models built offline (the Hugging Face hub is never reached)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import cast


def tiny_vit(path: Path, bias: Sequence[float], labels: Sequence[str]) -> Path:
    """A randomly initialised ViT image classifier whose logits are ``bias`` (the classifier
    weights are zeroed), saved with its image processor under ``path``."""
    import torch
    from transformers import ViTConfig, ViTForImageClassification, ViTImageProcessor

    config = ViTConfig(
        image_size=32,
        patch_size=8,
        num_channels=3,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
    )
    model = ViTForImageClassification(config)  # the pipeline reloads it in eval mode
    head = cast(torch.nn.Linear, model.classifier)
    with torch.no_grad():
        head.weight.zero_()
        head.bias.copy_(torch.tensor(list(bias)))
    model.save_pretrained(path)
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(path)
    return path
