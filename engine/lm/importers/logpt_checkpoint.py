"""`logpt import logpt CHECKPOINT OUT`: a LoGPT `best_model.pth` → a logpt bundle.

The checkpoint is a pickled dict: `model` (a nanoGPT state dict, possibly with
torch.compile's `_orig_mod.` prefix) and `config` (a dataclass with
block_size, vocab_size, n_layer, n_head, n_embd, ...). It is read through the
restricted unpickler. Its vocabulary is GPT-2's plus LoGPT's six control
tokens appended in order; GPT-2's ranks cannot be downloaded here, so the
caller supplies them (a GPT-2 tokenizer folder or a ranks file).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from engine.errors import BundleError, CheckpointError
from engine.lm.bundle import BundleConfig, TokenizerSpec, save_bundle
from engine.lm.config import GPTConfig
from engine.lm.importers.gpt2_vocab import load_gpt2_vocab
from engine.lm.importers.safe_pickle import ConfigRecord, load_torch_checkpoint
from engine.lm.tokenizer import ENDOFTEXT, LOGPT_SPECIALS, read_ranks

CONFIG_CLASSES = frozenset({"GPTConfig", "ModelConfig", "Config", "GPT2Config", "LoGPTConfig"})


def load_base_tokenizer(path: Path) -> tuple[dict[bytes, int], dict[str, int]]:
    """GPT-2 ranks from a folder with vocab.json + merges.txt, or from a tiktoken ranks file."""
    if path.is_dir():
        if not (path / "vocab.json").is_file() or not (path / "merges.txt").is_file():
            raise CheckpointError(
                f"{path} has no vocab.json and merges.txt", "pass a GPT-2 tokenizer folder or ranks file"
            )
        return load_gpt2_vocab(path / "vocab.json", path / "merges.txt")
    if path.is_file():
        try:
            ranks = read_ranks(path)
        except BundleError as e:
            raise CheckpointError(e.message, "pass a tiktoken ranks file such as r50k_base.tiktoken") from e
        return ranks, {ENDOFTEXT: max(ranks.values()) + 1}
    raise CheckpointError(f"no tokenizer at {path}", "pass a GPT-2 tokenizer folder or ranks file")


def _config_from(record: Any) -> GPTConfig:
    fields = record.__dict__ if isinstance(record, ConfigRecord) else record
    if not isinstance(fields, dict):
        raise CheckpointError("the checkpoint's config is not a dataclass or dict", "not a LoGPT checkpoint")
    try:
        return GPTConfig(
            block_size=int(fields["block_size"]),
            vocab_size=int(fields["vocab_size"]),
            n_layer=int(fields["n_layer"]),
            n_head=int(fields["n_head"]),
            n_embd=int(fields["n_embd"]),
            bias=bool(fields.get("bias", True)),
            activation="gelu",  # nanoGPT's nn.GELU(): the exact erf form
        )
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"the checkpoint's config lacks or mangles {e}", "not a LoGPT checkpoint") from e


def import_logpt(checkpoint: Path, out: Path, tokenizer: Path, *, force: bool = False) -> BundleConfig:
    ranks, specials = load_base_tokenizer(tokenizer)
    data = load_torch_checkpoint(checkpoint, config_classes=CONFIG_CLASSES)
    if not isinstance(data, dict) or "model" not in data or not ({"config", "model_args"} & set(data)):
        raise CheckpointError(f"{checkpoint} has no 'model' and 'config' entries", "not a LoGPT checkpoint")
    config = _config_from(data.get("model_args") or data["config"])  # nanoGPT keeps the architecture in model_args
    weights = data["model"]
    if not isinstance(weights, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in weights.items()
    ):
        raise CheckpointError(f"{checkpoint}: 'model' is not a mapping of names to tensors", "not a LoGPT checkpoint")
    state: dict[str, torch.Tensor] = {
        key.removeprefix("_orig_mod."): value
        for key, value in weights.items()
        if not key.endswith(".attn.bias")  # nanoGPT's causal-mask buffer in non-flash builds
    }
    specials = {k: v for k, v in specials.items() if k not in LOGPT_SPECIALS}  # re-appended below, in order
    base = max([*ranks.values(), *specials.values()]) + 1
    specials.update({name: base + i for i, name in enumerate(LOGPT_SPECIALS)})
    if base + len(LOGPT_SPECIALS) > config.vocab_size:
        raise CheckpointError(
            f"the checkpoint's vocabulary ({config.vocab_size}) is smaller than the tokenizer's {base} + 6 control tokens",
            "pass the GPT-2 tokenizer the model was trained with",
        )
    bundle = BundleConfig(
        model=config,
        tokenizer=TokenizerSpec(special_tokens=specials, eot_token=ENDOFTEXT if ENDOFTEXT in specials else None),
        prompt_format="logpt-v1",
        description=f"imported from LoGPT checkpoint {checkpoint.name}",
        provenance={
            "importer": "logpt",
            "source": str(checkpoint.resolve()),
            "iter_num": _number(data.get("iter_num"), int),
            "best_val_loss": _number(data.get("best_val_loss"), float),
        },
    )
    try:
        save_bundle(out, bundle, state, ranks, force=force)
    except BundleError as e:
        raise CheckpointError(e.message, "the checkpoint does not match its own config") from e
    return bundle


def _number(value: object, kind: type) -> int | float | None:
    """A provenance number from the checkpoint, or None when it is missing or not a number."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    return kind(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
