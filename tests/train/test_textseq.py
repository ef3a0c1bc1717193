"""The sequence model's trainer: streams mined from lines, a few steps learn a cycle, the bundle loads back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.detect.textseq import load_text_seq
from engine.errors import BundleError
from engine.lm.bundle import CONFIG_FILE, read_config
from engine.lm.tokenizer import byte_level_ranks
from train.textseq import (
    Stream,
    TextSeqConfig,
    mine_stream,
    save_text_seq,
    seq_tokenizer,
    train_text_seq,
)

TINY = TextSeqConfig(n_layer=1, n_head=2, n_embd=32, block_size=9, dropout=0.0, steps=150, batch_size=8, lr=1e-2,
                     warmup_steps=4, eval_every=50, val_share=0.2)  # fmt: skip
TEXTS = ["worker started job <NUM>", "cache hit for key <*>", "request served in <NUM> ms", "worker finished job <NUM>"]


def cycle(name: str, n: int = 120) -> Stream:
    return Stream(name, "synthetic", [i % 4 for i in range(n)], TEXTS)


def test_a_stream_is_its_records_as_template_indices_without_the_header() -> None:
    lines = [f"2024-01-02 10:00:{n:02d} INFO  [api] {m}" for n in range(10)
             for m in (f"request {n} served in {n}ms", f"user u{n} logged in")]  # fmt: skip
    stream = mine_stream("s", "loghub", lines)
    assert stream.keys == [0, 1] * 10 and len(stream.texts) == 2
    assert not any("2024" in text for text in stream.texts)
    train, held = stream.split(0.2)
    assert len(held) == 4 and train + held == stream.keys


@pytest.mark.slow  # a training run
def test_a_few_steps_learn_a_cycle_and_the_bundle_loads(tmp_path: Path) -> None:
    tokenizer = seq_tokenizer(byte_level_ranks())
    reports: list = []
    result = train_text_seq([cycle("a"), cycle("b")], tokenizer, TINY, reports.append)
    assert len(reports) == TINY.steps and reports[-1].loss < reports[0].loss / 4
    assert 0 < result.floor < 1
    save_text_seq(tmp_path / "seq", result, tokenizer, [cycle("a")], TINY)
    config = read_config(tmp_path / "seq")
    assert config.kind == "textseq" and config.provenance["data"]["held_out_systems"] == ["BGL"]
    model = load_text_seq(tmp_path / "seq")
    texts = {str(i): t for i, t in enumerate(TEXTS)}
    regular = [str(i % 4) for i in range(24)]
    broken = regular[:12] + ["3"] + regular[13:]  # "finished" where "request served" was due
    scored = model.score([regular, broken], texts)
    assert scored[1].probs[12] < scored[0].probs[12] / 10 and scored[1].ranks[12] > 0
    assert scored[0].expected[12][0] == "0"  # after "cache hit", the cycle goes on with "worker started"
    with pytest.raises(Exception, match="already exists"):
        save_text_seq(tmp_path / "seq", result, tokenizer, [cycle("a")], TINY)


def test_a_bundle_without_its_rule_or_of_another_kind_is_refused(tmp_path: Path) -> None:
    tokenizer = seq_tokenizer(byte_level_ranks())
    result = train_text_seq([cycle("a")], tokenizer, TINY.__class__(**{**TINY.__dict__, "steps": 1}))
    save_text_seq(tmp_path / "seq", result, tokenizer, [cycle("a")], TINY)
    path = tmp_path / "seq" / CONFIG_FILE
    data = json.loads(path.read_text())
    for rule in ({"floor": 2.0}, {"floor": "0.1"}, None):
        data["provenance"]["rule"] = rule
        path.write_text(json.dumps(data))
        with pytest.raises(BundleError, match="floor must be a probability"):
            load_text_seq(tmp_path / "seq")
    data["kind"] = "linelm"
    path.write_text(json.dumps(data))
    with pytest.raises(BundleError, match="not a sequence model"):
        load_text_seq(tmp_path / "seq")
