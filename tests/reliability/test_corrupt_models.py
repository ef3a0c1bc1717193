"""Hostile model files, second round: poisoned weights, mistyped token names, a NaN top-K, a corrupt checkpoint
to resume from, a FIFO for a checkpoint, negative token ranks, a weights file that cannot be written. Each is one
error naming the file before any work, never a traceback from deep inside sampling or safetensors."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from engine.detect import TopK
from engine.errors import BundleError, CheckpointError, LogptError
from engine.lm.bundle import load_bundle
from engine.lm.config import GPTConfig
from engine.lm.devices import placement
from engine.lm.importers.safe_pickle import load_torch_checkpoint
from engine.lm.model import GPT
from engine.lm.tensorfile import save_tensors
from engine.lm.tokenizer import read_ranks
from train.generator import load_checkpoint, save_checkpoint


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_weights_that_are_not_finite_are_refused_at_load(tiny_bundle: Path, value: float) -> None:
    path = tiny_bundle / "model.safetensors"
    tensors = load_file(str(path))
    name = sorted(k for k, v in tensors.items() if v.is_floating_point())[0]
    tensors[name] = tensors[name].clone()
    tensors[name].view(-1)[3] = value  # one weight is enough to turn every probability into NaN
    save_file(tensors, str(path))
    with pytest.raises(BundleError, match=f"{name} holds NaN or infinite weights"):
        load_bundle(tiny_bundle, placement("cpu"))


@pytest.mark.parametrize(
    "change, field",
    [
        (lambda d: d["tokenizer"].update(eot_token=["<|endoftext|>"]), "eot_token"),
        (lambda d: d["tokenizer"].update(eot_token=7), "eot_token"),
        (lambda d: d.update(stop_tokens=[["<|response_end|>"]]), "stop_tokens"),
        (lambda d: d.update(stop_tokens=[{"a": 1}]), "stop_tokens"),
    ],
)
def test_token_names_that_are_not_strings_are_a_malformed_config(tiny_bundle: Path, change, field: str) -> None:  # noqa: ANN001
    path = tiny_bundle / "config.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))
    with pytest.raises(BundleError, match=f"malformed: {field} must name tokens as strings"):
        load_bundle(tiny_bundle, placement("cpu"))


@pytest.mark.parametrize(
    "kind, value", [("count", float("nan")), ("count", float("inf")), ("mass", float("nan")), ("prob", float("-inf"))]
)
def test_a_top_k_that_is_not_a_finite_number_is_refused(kind: str, value: float) -> None:
    with pytest.raises(ValueError, match="top-K value out of range"):
        TopK(kind, value)


def model_and_optimizer(seed: int = 0, n_embd: int = 16) -> tuple[GPT, torch.optim.Optimizer]:
    model = GPT(GPTConfig(block_size=8, vocab_size=11, n_layer=1, n_head=2, n_embd=n_embd))
    model.init_weights(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model(torch.zeros(1, 4, dtype=torch.long))[0].sum().backward()
    optimizer.step()
    return model, optimizer


def spoil_truncated(folder: Path) -> None:
    data = (folder / "model.safetensors").read_bytes()
    (folder / "model.safetensors").write_bytes(data[: len(data) // 2])


def spoil_garbage(folder: Path) -> None:
    (folder / "optimizer.safetensors").write_bytes(b"\xff" * 100)


def spoil_state_keys(folder: Path) -> None:
    (folder / "state.json").write_text(json.dumps({"param_groups": json.loads((folder / "state.json").read_text())["param_groups"]}))


def spoil_state_json(folder: Path) -> None:
    (folder / "state.json").write_text("{not json")


def spoil_other_model(folder: Path) -> None:
    other, _ = model_and_optimizer(n_embd=32)
    save_file({k: v.clone() for k, v in other.state_dict().items()}, str(folder / "model.safetensors"))


def spoil_fifo(folder: Path) -> None:
    (folder / "model.safetensors").unlink()
    os.mkfifo(folder / "model.safetensors")


@pytest.mark.parametrize(
    "spoil", [spoil_truncated, spoil_garbage, spoil_state_keys, spoil_state_json, spoil_other_model, spoil_fifo]
)
def test_a_corrupt_checkpoint_to_resume_from_is_one_error(tmp_path: Path, spoil) -> None:  # noqa: ANN001
    model, optimizer = model_and_optimizer()
    save_checkpoint(tmp_path, model, optimizer, {"step": 3, "best_val_loss": 2.5, "tokens": 10, "seconds": 1.0, "rng": [1, 2]})
    fresh, fresh_optimizer = model_and_optimizer(seed=1)
    assert load_checkpoint(tmp_path, fresh, fresh_optimizer)["step"] == 3  # the checkpoint as written resumes
    spoil(tmp_path)
    with pytest.raises(LogptError, match=str(tmp_path)):  # a CheckpointError, or a side file's InputError
        load_checkpoint(tmp_path, fresh, fresh_optimizer)


def test_a_fifo_given_as_a_checkpoint_is_refused_instead_of_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "ckpt.pt"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []

    def load() -> None:
        try:
            load_torch_checkpoint(fifo)
        except BaseException as e:  # noqa: BLE001 - handed to the test thread
            outcome.append(e)

    reader = threading.Thread(target=load, daemon=True)
    reader.start()
    reader.join(30)  # a hang, not a speed: before the fix the read never returned
    if reader.is_alive():
        with open(fifo, "wb"):  # unblock the reader so that the daemon thread ends
            pass
        pytest.fail("load_torch_checkpoint blocked on a FIFO")
    assert isinstance(outcome[0], CheckpointError) and "not a regular file" in str(outcome[0])


def test_a_negative_token_rank_is_refused_when_read(tmp_path: Path) -> None:
    path = tmp_path / "ranks.tiktoken"
    path.write_text("YQ== 0\nYg== 1\nYWI= -5\n")
    with pytest.raises(BundleError, match=r"ranks.tiktoken:3: not a tiktoken ranks line"):
        read_ranks(path)


def test_weights_that_cannot_be_written_are_an_os_error_naming_the_file(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    target = blocker / "model.safetensors"  # its folder is a file: safetensors' own error, not an OSError
    with pytest.raises(OSError, match="Not a directory") as caught:
        save_tensors({"w": torch.zeros(4)}, target)
    assert caught.value.filename == str(target)
