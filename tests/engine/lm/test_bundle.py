"""Bundles: round trip, and one clear error for each way a bundle breaks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from engine.errors import BundleError
from engine.lm.bundle import load_bundle, read_config
from engine.lm.devices import placement
from engine.lm.registry import find_bundle, list_bundles
from tests.conftest import make_bundle


def test_round_trip_keeps_weights_and_ties_the_head(tiny_bundle: Path) -> None:
    bundle = load_bundle(tiny_bundle, placement("cpu"))
    assert bundle.model.lm_head.weight is bundle.model.transformer.wte.weight
    assert bundle.config.provenance == {"built_by": "tests"}
    again = load_bundle(tiny_bundle, placement("cpu"))
    idx = torch.tensor([[1, 2, 3]])
    with torch.inference_mode():
        torch.testing.assert_close(bundle.model(idx), again.model(idx))
    assert bundle.stop_ids() == [bundle.tokenizer.special("<|endoftext|>")]  # a prompt format's end: the analysis layer's
    assert bundle.stop_ids(also=["<|response_end|>", "<|endoftext|>"]) == [
        bundle.tokenizer.special("<|response_end|>"),
        bundle.tokenizer.special("<|endoftext|>"),
    ]


def test_corrupt_weights(tiny_bundle: Path) -> None:
    weights = tiny_bundle / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(BundleError, match="corrupt"):
        load_bundle(tiny_bundle, placement("cpu"))


def test_weights_that_do_not_fit_the_config(tiny_bundle: Path) -> None:
    path = tiny_bundle / "config.json"
    data = json.loads(path.read_text())
    data["model"]["n_embd"] = 64
    path.write_text(json.dumps(data))
    with pytest.raises(BundleError, match="shape|parameters"):
        load_bundle(tiny_bundle, placement("cpu"))


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d.update(format="other"), "not a logpt bundle"),
        (lambda d: d.update(format_version=99), "not supported"),
        (lambda d: d["model"].update(n_head=5), "malformed"),
        (lambda d: d["model"].update(flash=True), "unknown model config keys"),
        (lambda d: d["tokenizer"].update(ranks_file="../../etc/passwd"), "inside the bundle"),
    ],
)
def test_bad_config_json(tiny_bundle: Path, mutate, message: str) -> None:
    path = tiny_bundle / "config.json"
    data = json.loads(path.read_text())
    mutate(data)
    path.write_text(json.dumps(data))
    with pytest.raises(BundleError, match=message):
        load_bundle(tiny_bundle, placement("cpu"))


def test_missing_pieces(tmp_path: Path, tiny_bundle: Path) -> None:
    with pytest.raises(BundleError, match="no bundle folder"):
        read_config(tmp_path / "nothing")
    (tiny_bundle / "config.json").write_text("{not json")
    with pytest.raises(BundleError, match="not valid JSON"):
        read_config(tiny_bundle)
    (tiny_bundle / "config.json").write_text("[" * 100_000 + "]" * 100_000)  # a nesting bomb: one line, no traceback
    with pytest.raises(BundleError, match="nested too deeply"):
        read_config(tiny_bundle)


def test_registry_finds_bundles_by_name(tmp_path: Path, vocab: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGPT_MODELS", str(tmp_path))
    make_bundle(tmp_path / "mine", vocab)
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text("[]")
    found = {b.name: b for b in list_bundles()}
    assert found["mine"].config is not None and found["mine"].kind == "generator" and found["broken"].problem
    assert find_bundle("mine") == tmp_path / "mine"
    with pytest.raises(BundleError, match="no model bundle named"):
        find_bundle("absent")
