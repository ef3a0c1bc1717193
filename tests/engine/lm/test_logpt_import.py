"""A LoGPT-layout `best_model.pth` written here imports, loads and generates."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from engine.analysis.run import AnalysisRequest, analyze_chunk, plan_chunks
from engine.errors import CheckpointError
from engine.lm.bundle import load_bundle
from engine.lm.config import GPTConfig as EngineConfig
from engine.lm.devices import placement
from engine.lm.generate import GenerationStats
from engine.lm.importers.logpt_checkpoint import import_logpt
from engine.lm.model import GPT
from engine.lm.sampling import SamplingConfig
from engine.lm.tokenizer import LOGPT_SPECIALS
from tests.conftest import SAMPLE_LOG


@dataclass
class GPTConfig:  # stands in for LoGPT's own config dataclass, pickled by reference as it is there
    block_size: int = 256
    vocab_size: int = 0
    n_layer: int = 2
    n_head: int = 2
    n_embd: int = 32
    dropout: float = 0.0
    bias: bool = True


def write_logpt_checkpoint(path: Path, n_base: int, *, compiled: bool = False) -> GPT:
    cfg = GPTConfig(vocab_size=n_base + len(LOGPT_SPECIALS))
    model = GPT(
        EngineConfig(block_size=256, vocab_size=cfg.vocab_size, n_layer=2, n_head=2, n_embd=32, activation="gelu")
    )
    model.init_weights(seed=4)
    state = model.state_dict()
    prefix = "_orig_mod." if compiled else ""
    state = {f"{prefix}{k}": v for k, v in state.items()}
    state[f"{prefix}transformer.h.0.attn.bias"] = torch.tril(torch.ones(1, 1, 256, 256))  # old nanoGPT buffer
    optimizer = torch.optim.AdamW(model.parameters())
    torch.save(
        {
            "model": state,
            "config": cfg,
            "optimizer": optimizer.state_dict(),
            "iter_num": 1200,
            "best_val_loss": torch.tensor(1.25),
        },
        path,
    )
    return model.eval()


@pytest.mark.parametrize("compiled", [False, True])
def test_logpt_checkpoint_imports_and_generates(
    tmp_path: Path, hf_tokenizer_dir: Path, vocab: tuple, compiled: bool
) -> None:
    n_base = max(vocab[1]["<|endoftext|>"], *vocab[0].values()) + 1
    ckpt = tmp_path / "best_model.pth"
    reference = write_logpt_checkpoint(ckpt, n_base, compiled=compiled)
    config = import_logpt(ckpt, tmp_path / "bundle", hf_tokenizer_dir)
    assert config.prompt_format == "logpt-v1"
    assert config.provenance["iter_num"] == 1200 and config.provenance["best_val_loss"] == 1.25
    bundle = load_bundle(tmp_path / "bundle", placement("cpu"))
    assert [bundle.tokenizer.special(n) for n in LOGPT_SPECIALS] == list(range(n_base, n_base + 6))

    idx = torch.randint(0, n_base, (1, 30))
    with torch.inference_mode():
        torch.testing.assert_close(bundle.model(idx), reference(idx))

    request = AnalysisRequest("summary", max_new_tokens=20, sampling=SamplingConfig(temperature=0.0))
    chunk = plan_chunks(bundle, SAMPLE_LOG, request)[0]
    stats = GenerationStats()
    ids = list(analyze_chunk(bundle, chunk, request, stats))
    assert 0 < len(ids) <= 20 and stats.prefill_seconds > 0


def test_checkpoint_with_foreign_code_is_refused(tmp_path: Path, hf_tokenizer_dir: Path) -> None:
    from tests.engine.lm.test_safe_pickle import Exploit

    path = tmp_path / "best_model.pth"
    torch.save({"model": {}, "config": Exploit()}, path)
    with pytest.raises(CheckpointError, match="not allowed"):
        import_logpt(path, tmp_path / "out", hf_tokenizer_dir)
    assert not (tmp_path / "out").exists()


def test_vocabulary_too_small_for_the_control_tokens(tmp_path: Path, hf_tokenizer_dir: Path, vocab: tuple) -> None:
    ckpt = tmp_path / "best_model.pth"
    write_logpt_checkpoint(ckpt, n_base=100)
    with pytest.raises(CheckpointError, match="smaller than the tokenizer"):
        import_logpt(ckpt, tmp_path / "out", hf_tokenizer_dir)
