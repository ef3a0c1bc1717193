"""Prompt formats as the analysis layer owns them: which names load, and which token ends a reply."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.analysis.prompts import RESPONSE_END, load_generator, reply_stop_ids
from engine.errors import BundleError
from engine.lm.bundle import load_bundle
from engine.lm.devices import placement


def _edit_config(folder: Path, **changes: object) -> None:
    path = folder / "config.json"
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))


def test_an_unknown_prompt_format_is_refused_before_any_weights_are_read(tiny_bundle: Path) -> None:
    _edit_config(tiny_bundle, prompt_format="chatml")
    weights = tiny_bundle / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])  # corrupt: reading them would fail with another error
    with pytest.raises(BundleError, match="unknown prompt format 'chatml'") as caught:
        load_generator(tiny_bundle, placement("cpu"))
    assert "logpt-digest" in str(caught.value.hint)
    with pytest.raises(
        BundleError, match="model.safetensors"
    ):  # the lm layer reads the name as data, goes on to the weights
        load_bundle(tiny_bundle, placement("cpu"))


def test_a_logpt_reply_ends_at_response_end_even_when_the_bundle_records_no_stop_tokens(tiny_bundle: Path) -> None:
    _edit_config(tiny_bundle, stop_tokens=[])  # as bundles written before stop tokens were recorded
    bundle = load_generator(tiny_bundle, placement("cpu"))
    end, eot = bundle.tokenizer.special(RESPONSE_END), bundle.tokenizer.special("<|endoftext|>")
    assert reply_stop_ids(bundle) == [end, eot]


def test_a_plain_model_stops_at_end_of_text_and_at_the_bundle_s_own_stop_tokens(tiny_bundle: Path) -> None:
    _edit_config(tiny_bundle, prompt_format="plain", stop_tokens=["<|log_end|>"])
    bundle = load_generator(tiny_bundle, placement("cpu"))
    tok = bundle.tokenizer
    assert reply_stop_ids(bundle) == [tok.special("<|log_end|>"), tok.special("<|endoftext|>")]


def test_the_config_is_read_once_for_a_generator(tiny_bundle: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.lm.bundle as bundle_module

    reads: list[Path] = []
    real = bundle_module.bundle_json
    monkeypatch.setattr(bundle_module, "bundle_json", lambda path: reads.append(path) or real(path))
    loaded = load_generator(tiny_bundle, placement("cpu"))
    assert [p.name for p in reads] == ["config.json"]
    assert loaded.config == load_bundle(tiny_bundle, placement("cpu")).config
