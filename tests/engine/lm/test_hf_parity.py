"""Our loader against `transformers.GPT2LMHeadModel` on random small GPT-2s saved in HF layout."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from engine.errors import CheckpointError
from engine.lm.bundle import load_bundle
from engine.lm.devices import placement
from engine.lm.generate import generate
from engine.lm.importers.hf import import_hf
from engine.lm.sampling import SamplingConfig

transformers = pytest.importorskip("transformers")


def hf_model(n_vocab: int, activation: str = "gelu_new", seed: int = 0) -> transformers.GPT2LMHeadModel:
    torch.manual_seed(seed)
    config = transformers.GPT2Config(
        vocab_size=n_vocab, n_positions=128, n_embd=48, n_layer=3, n_head=4, activation_function=activation,
        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
    )  # fmt: skip
    model = transformers.GPT2LMHeadModel(config).eval()
    with torch.no_grad():  # HF zero-initialises biases; random ones make the transpose test stricter
        for name, p in model.named_parameters():
            if name.endswith("bias"):
                p.normal_(0, 0.02)
    return model


def save_hf(model: transformers.GPT2LMHeadModel, folder: Path, tokenizer_dir: Path, *, binary: bool) -> Path:
    folder.mkdir(parents=True)
    model.config.save_pretrained(folder)
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    if binary:
        torch.save(state, folder / "pytorch_model.bin")
    else:
        state.pop("lm_head.weight")  # HF stores tied weights once
        from safetensors.torch import save_file

        save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})
    for name in ("vocab.json", "merges.txt"):
        shutil.copy(tokenizer_dir / name, folder / name)
    return folder


@pytest.mark.parametrize("binary", [False, True], ids=["safetensors", "pytorch_model.bin"])
@pytest.mark.parametrize("activation", ["gelu_new", "gelu"])
def test_logits_and_greedy_generation_match_transformers(
    tmp_path: Path, hf_tokenizer_dir: Path, vocab: tuple, binary: bool, activation: str
) -> None:
    n_vocab = max(vocab[1].values()) + 1
    reference = hf_model(n_vocab, activation)
    folder = save_hf(reference, tmp_path / "hf", hf_tokenizer_dir, binary=binary)
    import_hf(folder, tmp_path / "bundle")
    bundle = load_bundle(tmp_path / "bundle", placement("cpu"))
    assert bundle.config.prompt_format == "logpt-v1"  # the test vocabulary carries LoGPT's tokens

    idx = torch.randint(0, n_vocab, (2, 50), generator=torch.Generator().manual_seed(3))
    with torch.inference_mode():
        ours = bundle.model(idx)
        theirs = reference(idx).logits
    assert (ours - theirs).abs().max().item() < 1e-4

    prompt = bundle.tokenizer.encode("Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure;")
    ids = list(generate(bundle.model, prompt, max_new_tokens=64, sampling=SamplingConfig(temperature=0.0)))
    with torch.inference_mode():
        out = reference.generate(
            torch.tensor([prompt]), max_new_tokens=64, min_new_tokens=64, do_sample=False,
            attention_mask=torch.ones(1, len(prompt), dtype=torch.long), pad_token_id=0,
        )  # fmt: skip
    assert ids == out[0, len(prompt) :].tolist()
    assert len(ids) == 64


def test_tokenizer_matches_transformers(hf_tokenizer_dir: Path, vocab: tuple) -> None:
    from engine.lm.tokenizer import Tokenizer

    ours = Tokenizer(*vocab)
    from tokenizers import ByteLevelBPETokenizer  # the Rust BPE behind transformers' GPT-2 tokenizer

    theirs = ByteLevelBPETokenizer.from_file(str(hf_tokenizer_dir / "vocab.json"), str(hf_tokenizer_dir / "merges.txt"))
    from tests.conftest import SAMPLE_LOG

    texts = SAMPLE_LOG.splitlines() + [
        "  leading spaces\tand tabs\n\n",
        "ünïcödé 🚀 \x1b[31mred\x1b[0m",
        "it's we'll 123456",
    ]
    for text in texts:
        assert ours.encode(text) == theirs.encode(text).ids, text


def test_untied_head_is_refused_when_config_says_tied(tmp_path: Path, hf_tokenizer_dir: Path, vocab: tuple) -> None:
    n_vocab = max(vocab[1].values()) + 1
    model = hf_model(n_vocab)
    folder = save_hf(model, tmp_path / "hf", hf_tokenizer_dir, binary=True)
    state = torch.load(folder / "pytorch_model.bin", weights_only=True)
    state["lm_head.weight"] = state["lm_head.weight"].clone() + 1
    torch.save(state, folder / "pytorch_model.bin")
    with pytest.raises(CheckpointError, match="lm_head"):
        import_hf(folder, tmp_path / "bundle")


def test_missing_tokenizer_files_are_reported(tmp_path: Path, hf_tokenizer_dir: Path, vocab: tuple) -> None:
    folder = save_hf(hf_model(max(vocab[1].values()) + 1), tmp_path / "hf", hf_tokenizer_dir, binary=False)
    (folder / "merges.txt").unlink()
    with pytest.raises(CheckpointError, match="merges.txt"):
        import_hf(folder, tmp_path / "bundle")
