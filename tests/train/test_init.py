"""`logpt train generator --init`: fine-tuning an imported GPT-2 with LoGPT's control tokens added."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from engine.lm.bundle import load_bundle
from engine.lm.devices import placement
from engine.lm.importers.hf import import_hf
from engine.lm.tokenizer import ENDOFTEXT, LOGPT_SPECIALS
from tests.engine.lm.test_hf_parity import hf_model, save_hf
from tests.logpt_tui.cli.test_cli import run
from train.init import resize_vocab, start_from

transformers = pytest.importorskip("transformers")


@pytest.fixture(params=["long"])
def gpt2_bundle(request: pytest.FixtureRequest, tmp_path: Path, hf_tokenizer_dir: Path) -> Path:
    """A random GPT-2 in Hugging Face layout whose vocabulary, like GPT-2's, has only <|endoftext|>, imported."""
    vocab = json.loads((hf_tokenizer_dir / "vocab.json").read_text())
    plain = tmp_path / "tok"
    plain.mkdir()
    (plain / "vocab.json").write_text(json.dumps({t: i for t, i in vocab.items() if t not in LOGPT_SPECIALS}))
    (plain / "merges.txt").write_text((hf_tokenizer_dir / "merges.txt").read_text())
    model = hf_model(len(vocab) - len(LOGPT_SPECIALS))
    if request.param == "long":  # GPT-2's own context: room for a digest prompt and a reply
        model = transformers.GPT2LMHeadModel(
            transformers.GPT2Config(**{**model.config.to_dict(), "n_positions": 1024})
        ).eval()
    folder = save_hf(model, tmp_path / "hf", plain, binary=False)
    import_hf(folder, tmp_path / "gpt2")
    return tmp_path / "gpt2"


def test_control_tokens_are_added_after_the_vocabulary_and_old_logits_stay(gpt2_bundle: Path) -> None:
    before = load_bundle(gpt2_bundle, placement("cpu"))
    assert before.config.prompt_format == "plain" and set(before.tokenizer.special_tokens) == {ENDOFTEXT}
    start = start_from(gpt2_bundle)
    old = before.model.config.vocab_size
    assert start.added == list(LOGPT_SPECIALS)
    assert [start.tokenizer.special(n) for n in LOGPT_SPECIALS] == list(range(old, old + 6))
    assert start.model.config.vocab_size == old + 6 and start.tokenizer.n_vocab == old + 6
    ids = torch.tensor([before.tokenizer.encode("authentication failure; logname= uid=0")])
    with torch.no_grad():
        reference, grown = before.model(ids), start.model(ids)
    torch.testing.assert_close(grown[..., :old], reference)  # every old token's logit exactly as it was
    rows = start.model.transformer.wte.weight
    torch.testing.assert_close(rows[old:], rows[:old].mean(0).expand(6, -1))
    with pytest.raises(ValueError, match="shrink"):
        resize_vocab(start.model, 3)


@pytest.mark.slow  # trains and analyses with a GPT-2-shaped model: ~5 s; CI runs -m slow
def test_train_generator_from_an_imported_gpt2(
    gpt2_bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no ../shared here: synthetic data only
    extra = tmp_path / "extra.jsonl"
    extra.write_text(json.dumps({"log": "Nov 30 kernel: Out of memory: Killed process 7 (java)", "query": "summary",
                                 "response": "## Summary\n1 line of syslog log."}) + "\n")  # fmt: skip
    argv = ["train", "generator", str(tmp_path / "tuned"), "--work", str(tmp_path / "work"), "--preset", "tiny",
            "--synthetic", "30", "--made-up", "0", "--build-data", "--init", str(gpt2_bundle), "--extra", str(extra)]  # fmt: skip
    code, out, err = run(argv, capsys)
    assert code == 0, err
    tuned = load_bundle(tmp_path / "tuned", placement("cpu"))
    base = load_bundle(gpt2_bundle, placement("cpu"))
    assert tuned.config.prompt_format == "logpt-digest"
    assert tuned.model.config.vocab_size == base.model.config.vocab_size + 6
    assert (tuned.model.config.n_layer, tuned.model.config.n_embd) == (
        base.model.config.n_layer,
        base.model.config.n_embd,
    )
    assert tuned.tokenizer.encode("blk_123 terminating") == base.tokenizer.encode("blk_123 terminating")
    provenance = tuned.config.provenance
    assert provenance["init"]["added_tokens"] == list(LOGPT_SPECIALS) and provenance["config"]["lr"] == 1e-4
    assert provenance["data"]["extra"] == [str(extra)] and provenance["training"]["steps"] == 4
    changed = (
        (tuned.model.transformer.h[0].attn.c_attn.weight - base.model.transformer.h[0].attn.c_attn.weight).abs().max()
    )
    assert 0 < changed < 0.05  # fine-tuned: moved, from where GPT-2 was
    code, out, err = run(
        ["analyze", "-f", str(extra), "-m", str(tmp_path / "tuned"), "--max-tokens", "30", "--json"], capsys
    )
    assert code == 0, err
    assert json.loads(out.splitlines()[0])["text"].startswith("## Summary")  # held to the reply grammar


@pytest.mark.parametrize("gpt2_bundle", ["short"], indirect=True)
def test_a_context_too_short_for_a_digest_prompt_is_refused_before_training(
    gpt2_bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    argv = ["train", "generator", str(tmp_path / "tuned"), "--work", str(tmp_path / "work"), "--preset", "tiny",
            "--synthetic", "5", "--made-up", "0", "--init", str(gpt2_bundle)]  # fmt: skip
    code, _, err = run(argv, capsys)
    assert code == 2 and "128-token context cannot hold a digest prompt" in err and "at least" in err
    assert not (tmp_path / "work" / "train.jsonl").exists()
