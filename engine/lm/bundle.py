"""Model bundles: a folder with `config.json`, `model.safetensors` and a
tiktoken ranks file.

`config.json` records the architecture, the tokenizer (ranks file, split
pattern, special tokens), the prompt format and where the weights came from.
Loading executes no code: weights are safetensors only. Tied weights are
stored once (the token embedding) and tied again on load.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from engine.errors import BundleError, InputError
from engine.lm.config import GPTConfig
from engine.lm.devices import Placement
from engine.lm.model import GPT
from engine.lm.quantize import quantize_int8
from engine.lm.tensorfile import load_tensors, save_tensors
from engine.lm.tokenizer import PATTERNS, Tokenizer, read_ranks, write_ranks
from engine.sidefiles import read_json

FORMAT = "logpt-bundle"
FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
RANKS_FILE = "tokenizer.tiktoken"
KINDS = ("generator", "detector", "linelm", "textseq")  # linelm: engine.detect.unusual; textseq: engine.detect.textseq
MIN_BYTES_PER_PARAM = 2  # weights are stored as fp32, fp16 or bf16


def _text_or_none(value: object, field: str) -> str | None:
    """A token name from a bundle config: a string (or None); anything else is malformed (a TypeError)."""
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{field} must name tokens as strings, not {type(value).__name__}")
    return value


@dataclass(frozen=True)
class TokenizerSpec:
    ranks_file: str = RANKS_FILE  # relative to the bundle folder
    pattern: str = "gpt2"  # a name in engine.lm.tokenizer.PATTERNS
    special_tokens: dict[str, int] = field(default_factory=dict)
    eot_token: str | None = None  # end-of-text token, if the vocabulary has one


@dataclass(frozen=True)
class BundleConfig:
    model: GPTConfig
    tokenizer: TokenizerSpec
    kind: str = "generator"
    prompt_format: str = "logpt-v1"  # a name that engine.analysis.prompts gives meaning (and checks before loading)
    stop_tokens: tuple[str, ...] = ()  # more tokens that end a generation (besides eot_token and the prompt format's)
    description: str = ""
    provenance: dict[str, Any] = field(default_factory=dict)  # data, steps, metrics, device, importer

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "kind": self.kind,
            "description": self.description,
            "model": self.model.to_dict(),
            "tokenizer": {
                "ranks_file": self.tokenizer.ranks_file,
                "pattern": self.tokenizer.pattern,
                "special_tokens": self.tokenizer.special_tokens,
                "eot_token": self.tokenizer.eot_token,
            },
            "prompt_format": self.prompt_format,
            "stop_tokens": list(self.stop_tokens),
            "provenance": self.provenance,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], where: Path) -> BundleConfig:
        hint = "re-create or re-import the bundle"
        if data.get("format") != FORMAT:
            raise BundleError(f"{where} is not a logpt bundle config", hint)
        if data.get("format_version") != FORMAT_VERSION:
            raise BundleError(
                f"{where}: bundle format version {data.get('format_version')} is not supported", "upgrade logpt"
            )
        try:
            tok = data["tokenizer"]
            config = cls(
                model=GPTConfig.from_dict(dict(data["model"])),
                tokenizer=TokenizerSpec(
                    ranks_file=str(tok.get("ranks_file", RANKS_FILE)),
                    pattern=str(tok.get("pattern", "gpt2")),
                    special_tokens={str(k): int(v) for k, v in tok.get("special_tokens", {}).items()},
                    eot_token=_text_or_none(tok.get("eot_token"), "eot_token"),
                ),
                kind=str(data.get("kind", "generator")),
                prompt_format=str(data.get("prompt_format", "logpt-v1")),
                stop_tokens=tuple(_text_or_none(s, "stop_tokens") or "" for s in data.get("stop_tokens", ())),
                description=str(data.get("description", "")),
                provenance=dict(data.get("provenance", {})),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise BundleError(f"{where} is malformed: {e}", hint) from e
        if config.kind not in KINDS:
            raise BundleError(f"{where}: unknown bundle kind {config.kind!r}", hint)
        if config.tokenizer.pattern not in PATTERNS:
            raise BundleError(f"{where}: unknown split pattern {config.tokenizer.pattern!r}", hint)
        if Path(config.tokenizer.ranks_file).name != config.tokenizer.ranks_file:
            raise BundleError(f"{where}: ranks_file must be a file name inside the bundle", hint)
        return config


def read_config(folder: Path) -> BundleConfig:
    path = folder / CONFIG_FILE
    if not folder.is_dir():
        raise BundleError(f"no bundle folder at {folder}", "run `logpt models` to list bundles")
    if not path.exists():
        raise BundleError(f"{folder} has no {CONFIG_FILE}", "it is not a logpt bundle")
    data = bundle_json(path)
    if not isinstance(data, dict):
        raise BundleError(f"{path} is not a JSON object", "re-create the bundle")
    return BundleConfig.from_json(data, path)


def save_bundle(
    folder: Path,
    config: BundleConfig,
    state: Mapping[str, torch.Tensor],
    ranks: Mapping[bytes, int],
    *,
    force: bool = False,
) -> None:
    """Write a bundle; `state` uses GPT's parameter names (a tied head may be present or not)."""

    def write(tmp: Path) -> None:
        save_weights(tmp, config.model, state)
        write_ranks(tmp / config.tokenizer.ranks_file, ranks)
        write_config(tmp, config.to_json())

    write_atomically(folder, write, force=force)


def bundle_json(path: Path, kind: str = "config") -> Any:
    """A bundle's JSON file (config.json, miner.json) through the one side-file reader, as a BundleError."""
    try:
        return read_json(path, kind, "re-create the bundle")
    except InputError as e:
        raise BundleError(e.message, e.hint) from None


def is_bundle(folder: Path) -> bool:
    """Whether `folder` holds a logpt bundle of any kind (its config.json says so)."""
    try:
        return bundle_json(folder / CONFIG_FILE).get("format") == FORMAT
    except (BundleError, AttributeError):
        return False


def check_writable(folder: Path, *, force: bool = False) -> None:
    """A bundle may go to `folder`: it is absent or empty, or a bundle and `force` is given."""
    if not folder.exists() or (folder.is_dir() and not any(folder.iterdir())):
        return
    if not folder.is_dir() or not is_bundle(folder):
        raise BundleError(f"{folder} exists and is not a logpt bundle", "choose another name or path")
    if not force:
        raise BundleError(f"{folder} already exists", "pass --force to replace it")


def write_atomically(folder: Path, write: Callable[[Path], None], *, force: bool = False) -> None:
    """Write a bundle into a fresh sibling folder, sync it, then swap it in: readers see the old bundle or the
    new one, never a mix, and two concurrent saves leave one of them whole.

    An existing bundle is replaced only with `force`; a folder that is not a bundle never is.
    """
    folder = folder.resolve()
    check_writable(folder, force=force)
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()  # an empty folder made for the bundle
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=folder.parent))
    try:
        write(tmp)
        for path in tmp.iterdir():
            with path.open("rb") as f:
                os.fsync(f.fileno())
        if folder.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".old", dir=folder.parent))
            os.replace(folder, old / "bundle")
            os.replace(tmp, folder)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def save_weights(folder: Path, config: GPTConfig, state: Mapping[str, torch.Tensor]) -> None:
    """`model.safetensors` of a bundle (every kind): checked against `config`, a tied head stored once."""
    check_state(config, state)
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in state.items()}
    if config.tie_weights:
        tensors.pop("lm_head.weight", None)
    save_tensors(tensors, folder / WEIGHTS_FILE, metadata={"format": FORMAT})


def write_config(folder: Path, data: Mapping[str, Any]) -> None:
    """`config.json` of a bundle (every kind)."""
    (folder / CONFIG_FILE).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def save_model(
    folder: Path, config: BundleConfig, model: GPT, ranks: Mapping[bytes, int], *, force: bool = False
) -> None:
    save_bundle(folder, config, model.state_dict(), ranks, force=force)


def load_tokenizer(folder: Path, config: BundleConfig) -> Tokenizer:
    ranks = read_ranks(folder / config.tokenizer.ranks_file)
    tokenizer = Tokenizer(
        ranks, config.tokenizer.special_tokens, pattern=PATTERNS[config.tokenizer.pattern], name=folder.name
    )
    if tokenizer.n_vocab > config.model.vocab_size:
        raise BundleError(
            f"{folder}: tokenizer has {tokenizer.n_vocab} ids but the model only {config.model.vocab_size}",
            "the bundle mixes a tokenizer and weights that do not belong together",
        )
    return tokenizer


def load_state(folder: Path, config: GPTConfig) -> dict[str, torch.Tensor]:
    """The weights of a bundle, after checking that the file is large enough for what `config` describes
    (so a config with a huge shape is refused before anything is built for it)."""
    path = folder / WEIGHTS_FILE
    if not path.is_file():
        raise BundleError(f"{folder} has no {WEIGHTS_FILE}", "re-create the bundle")
    needed = config.n_params() * MIN_BYTES_PER_PARAM
    if needed > path.stat().st_size:
        raise BundleError(
            f"{folder}: the config describes {config.n_params():,} parameters but {WEIGHTS_FILE} holds "
            f"{path.stat().st_size:,} bytes",
            "the config and the weights do not belong together",
        )
    state = load_tensors(path, "re-create the bundle", BundleError)
    for name, tensor in state.items():  # NaN or inf would only show as a failure deep inside sampling
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise BundleError(f"{path}: {name} holds NaN or infinite weights", "re-create the bundle")
    return state


def check_state(config: GPTConfig, state: Mapping[str, torch.Tensor]) -> dict[str, torch.Size]:
    """The expected parameter shapes, after checking that `state` has exactly them."""
    with torch.device("meta"):
        expected = {k: v.shape for k, v in GPT(config).state_dict().items()}
    if config.tie_weights:
        expected.pop("lm_head.weight")
    hint = "the config and the weights do not belong together"
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected) - {"lm_head.weight"})
    if missing or unexpected:
        raise BundleError(f"weights do not match the config: missing {missing[:3]}, unexpected {unexpected[:3]}", hint)
    for key, shape in expected.items():
        if tuple(state[key].shape) != tuple(shape):
            raise BundleError(f"weight {key} has shape {tuple(state[key].shape)}, the config says {tuple(shape)}", hint)
    return expected


def build_model(config: GPTConfig, state: Mapping[str, torch.Tensor], placement: Placement) -> GPT:
    """A GPT built on the meta device and filled from `state` (checked key by key)."""
    expected = check_state(config, state)
    with torch.device("meta"):
        model = GPT(config)
    tensors = {k: state[k].to(device=placement.device, dtype=placement.dtype) for k in expected}
    if config.tie_weights:
        tensors["lm_head.weight"] = tensors["transformer.wte.weight"]
    model.load_state_dict(tensors, assign=True, strict=True)
    if config.tie_weights:
        model.lm_head.weight = model.transformer.wte.weight
    return model.eval()


@dataclass
class LoadedBundle:
    """A bundle ready to generate: model, tokenizer, config and where it runs."""

    path: Path
    config: BundleConfig
    model: GPT
    tokenizer: Tokenizer
    placement: Placement
    quantized: bool = False

    @property
    def name(self) -> str:
        return self.path.name

    def stop_ids(self, also: Iterable[str] = ()) -> list[int]:
        """Ids of the tokens that end a generation: `also` (a prompt format's reply end), the config's, end of text."""
        names = dict.fromkeys([*also, *self.config.stop_tokens, self.config.tokenizer.eot_token])
        return [self.tokenizer.special_tokens[n] for n in names if n and n in self.tokenizer.special_tokens]

    def describe(self) -> str:
        where = "cpu int8" if self.quantized else self.placement.describe()
        return f"{self.name} ({self.config.model.n_params() / 1e6:.1f}M params) on {where}"


def load_bundle(
    folder: Path, placement: Placement, *, quantize: str | None = None, config: BundleConfig | None = None
) -> LoadedBundle:
    """Load a bundle for generation; `quantize="int8"` quantises on the CPU after loading. `config`: the
    folder's config when the caller has read it already (it is read once)."""
    config = config if config is not None else read_config(folder)
    tokenizer = load_tokenizer(folder, config)
    model = build_model(config.model, load_state(folder, config.model), placement)
    if placement.device.type == "mps" and placement.dtype == torch.float16 and not _finite_logits(model):
        model = model.float()  # fp16 overflowed on this model: MPS runs it in fp32
        placement = Placement(placement.device, torch.float32)
    if quantize is not None:
        if quantize != "int8":
            raise BundleError(f"unknown quantisation {quantize!r}", "the only choice is int8")
        if placement.dtype != torch.float32:
            raise BundleError("int8 quantisation starts from fp32 weights", "use --device cpu")
        quantize_int8(model)
    return LoadedBundle(folder, config, model, tokenizer, placement, quantized=quantize is not None)


@torch.inference_mode()
def _finite_logits(model: GPT) -> bool:
    idx = (
        torch.arange(min(64, model.config.block_size), device=model.transformer.wte.weight.device)[None]
        % model.config.vocab_size
    )
    return bool(torch.isfinite(model(idx)).all())
