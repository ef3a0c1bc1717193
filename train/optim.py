"""The one AdamW builder of logpt's trainers (nanoGPT's parameter groups).

Matrices (embeddings and Linear weights) decay; biases and LayerNorm gains
do not. β = (0.9, 0.95); the fused kernel on CUDA.
"""

from __future__ import annotations

from typing import Any

import torch

from engine.lm.model import GPT


def adamw(model: GPT, lr: float, weight_decay: float) -> torch.optim.AdamW:
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay},
        {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
    ]
    kwargs: dict[str, Any] = {"fused": True} if params and params[0].is_cuda else {}
    return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.95), **kwargs)
