"""`logpt import hf DIR OUT`: a Hugging Face GPT-2 folder → a logpt bundle.

Reads `config.json`, weights from `model.safetensors` or `pytorch_model.bin`
(through the restricted unpickler: no code runs), and `vocab.json` +
`merges.txt`. HF's Conv1D weights are stored (in, out) and are transposed to
Linear's (out, in); the causal-mask buffers are dropped; the head is tied.
"""

from __future__ import annotations

from pathlib import Path

import torch

from engine.errors import BundleError, CheckpointError, InputError
from engine.lm.bundle import BundleConfig, TokenizerSpec, save_bundle
from engine.lm.config import GPTConfig
from engine.lm.importers.gpt2_vocab import load_gpt2_vocab
from engine.lm.importers.safe_pickle import load_torch_checkpoint
from engine.lm.tensorfile import load_tensors
from engine.lm.tokenizer import ENDOFTEXT, LOGPT_SPECIALS
from engine.sidefiles import read_json

CONV1D = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")
ACTIVATIONS = {"gelu_new": "gelu_tanh", "gelu_pytorch_tanh": "gelu_tanh", "gelu": "gelu"}


def read_hf_config(folder: Path) -> GPTConfig:
    if not (folder / "config.json").exists():
        raise CheckpointError(f"{folder} has no config.json", "pass a Hugging Face GPT-2 model folder")
    try:
        raw = read_json(folder / "config.json", "config", "the folder is corrupt")
    except InputError as e:
        raise CheckpointError(e.message, e.hint) from None
    if not isinstance(raw, dict):
        raise CheckpointError(f"{folder / 'config.json'} is not a JSON object", "the folder is corrupt")
    if raw.get("model_type", "gpt2") != "gpt2":
        raise CheckpointError(f"model_type {raw.get('model_type')!r} is not gpt2", "only GPT-2 models can be imported")
    activation = raw.get("activation_function", "gelu_new")
    if activation not in ACTIVATIONS:
        raise CheckpointError(f"activation {activation!r} is not supported", f"supported: {', '.join(ACTIVATIONS)}")
    if raw.get("scale_attn_by_inverse_layer_idx") or raw.get("reorder_and_upcast_attn"):
        raise CheckpointError("this GPT-2 variant scales attention differently", "only standard GPT-2 is supported")
    try:  # GPTConfig checks types and bounds (a 0-head or 10^12-position model is refused before anything is built)
        return GPTConfig(
            block_size=int(raw.get("n_positions", 1024)),
            vocab_size=int(raw.get("vocab_size", 50257)),
            n_layer=int(raw.get("n_layer", 12)),
            n_head=int(raw.get("n_head", 12)),
            n_embd=int(raw.get("n_embd", 768)),
            activation=ACTIVATIONS[activation],
            layer_norm_eps=float(raw.get("layer_norm_epsilon", 1e-5)),
            tie_weights=bool(raw.get("tie_word_embeddings", True)),
        )
    except (TypeError, ValueError, OverflowError) as e:
        raise CheckpointError(f"{folder / 'config.json'}: {e}", "not a usable GPT-2 config") from None


def read_hf_weights(folder: Path) -> dict[str, torch.Tensor]:
    if (folder / "model.safetensors").is_file():
        return load_tensors(folder / "model.safetensors", "re-download it")
    if (folder / "pytorch_model.bin").is_file():
        state = load_torch_checkpoint(folder / "pytorch_model.bin")
        if not isinstance(state, dict):
            raise CheckpointError("pytorch_model.bin does not hold a state dict", "not a Hugging Face checkpoint")
        return state
    raise CheckpointError(f"{folder} has neither model.safetensors nor pytorch_model.bin", "pass a GPT-2 model folder")


def convert_hf_state(hf: dict[str, torch.Tensor], config: GPTConfig) -> dict[str, torch.Tensor]:
    """HF GPT2LMHeadModel / GPT2Model names and layouts → GPT's."""
    state: dict[str, torch.Tensor] = {}
    for key, tensor in hf.items():
        if key.endswith((".attn.bias", ".attn.masked_bias")):
            continue  # causal-mask buffers, not weights
        name = key if key.startswith(("transformer.", "lm_head.")) else f"transformer.{key}"
        if name.endswith(CONV1D):
            tensor = tensor.t()
        state[name] = tensor.contiguous()
    if config.tie_weights:
        head = state.pop("lm_head.weight", None)
        wte = state.get("transformer.wte.weight")
        if head is not None and wte is not None and not torch.equal(head, wte):
            raise CheckpointError(
                "lm_head differs from the token embedding", "set tie_word_embeddings=false in config.json"
            )
    return state


def import_hf(folder: Path, out: Path, *, force: bool = False) -> BundleConfig:
    """Convert a Hugging Face GPT-2 folder into a bundle at `out`."""
    config = read_hf_config(folder)
    for name in ("vocab.json", "merges.txt"):
        if not (folder / name).is_file():
            raise CheckpointError(f"{folder} has no {name}", "the tokenizer files must sit beside the weights")
    ranks, specials = load_gpt2_vocab(folder / "vocab.json", folder / "merges.txt")
    state = convert_hf_state(read_hf_weights(folder), config)
    prompt = "logpt-v1" if set(LOGPT_SPECIALS) <= set(specials) else "plain"
    bundle = BundleConfig(
        model=config,
        tokenizer=TokenizerSpec(special_tokens=specials, eot_token=ENDOFTEXT if ENDOFTEXT in specials else None),
        prompt_format=prompt,
        description=f"imported from Hugging Face folder {folder.name}",
        provenance={"importer": "hf", "source": str(folder.resolve())},
    )
    try:
        save_bundle(out, bundle, state, ranks, force=force)
    except BundleError as e:
        raise CheckpointError(e.message, "the checkpoint is incomplete or not GPT-2") from e
    return bundle
