"""int8 weights stay close to fp32 and generate through the same ladder."""

from __future__ import annotations

from pathlib import Path

import torch

from engine.lm.bundle import load_bundle
from engine.lm.devices import placement
from engine.lm.generate import generate
from engine.lm.quantize import Int8Linear
from engine.lm.sampling import SamplingConfig


def test_int8_logits_track_fp32(tiny_bundle: Path) -> None:
    fp32 = load_bundle(tiny_bundle, placement("cpu"))
    int8 = load_bundle(tiny_bundle, placement("cpu"), quantize="int8")
    assert isinstance(int8.model.lm_head, Int8Linear) and int8.quantized
    idx = torch.randint(0, 500, (1, 64), generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        a, b = fp32.model(idx), int8.model(idx)
    # Per-channel int8 keeps logits within a few percent of their spread, and the top choice mostly equal.
    assert (a - b).abs().max() < 0.05 * a.std() * 10
    assert (a.argmax(-1) == b.argmax(-1)).float().mean() > 0.9
    ids = list(generate(int8.model, [1, 2, 3], max_new_tokens=10, sampling=SamplingConfig(0.0)))
    assert len(ids) == 10
