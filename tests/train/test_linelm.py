"""The line model's trainer: templates mined from lines, a few steps lower the loss, the bundle loads back."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from engine.detect.unusual import ANY, ERROR, INFO, load_line_lm
from engine.lm.bundle import read_config
from engine.lm.tokenizer import byte_level_ranks
from train.linelm import (
    Corpus,
    LineLMConfig,
    batch_tensors,
    line_tokenizer,
    mine_examples,
    save_line_lm,
    source_weights,
    train_line_lm,
)

LINES = [
    "2024-01-02 10:00:0{n} INFO  [api] request {n} served in {n}ms",
    "2024-01-02 10:00:0{n} INFO  [api] session opened for user alice{n}",
    "2024-01-02 10:00:0{n} ERROR [db] connection refused to 10.0.0.{n}:5432",
]
TINY = LineLMConfig(n_layer=1, n_head=2, n_embd=32, block_size=64, dropout=0.0, steps=40, batch_size=8,
                    lr=1e-2, warmup_steps=4, eval_every=20, val_share=0.0)  # fmt: skip


def test_templates_carry_their_level_and_lose_the_header() -> None:
    lines = [line.format(n=n) for n in range(1, 6) for line in LINES]
    found = mine_examples(lines)
    assert len(found) == 3 and not any("2024" in text or "10:00" in text for _, text in found)  # the header is gone
    assert [tag for tag, text in found if text.endswith("connection refused to <IP>:<NUM>")] == [ERROR]
    assert [tag for tag, text in found if "request <NUM> served" in text] == [INFO]


def test_batches_skip_the_tag_and_the_padding() -> None:
    x, y = batch_tensors([[9, 8, 1, 2, 9], [9, 7, 3, 9]], pad=9)
    assert x.tolist() == [[9, 8, 1, 2], [9, 7, 3, 9]]
    assert y.tolist() == [[-1, 1, 2, 9], [-1, 3, 9, -1]]


def test_a_few_steps_learn_the_templates_and_the_bundle_loads(tmp_path: Path) -> None:
    tokenizer = line_tokenizer(byte_level_ranks())
    examples = [(INFO, "request <NUM> served in <NUM>ms"), (INFO, "session opened for user <*>"),
                (ERROR, "connection refused to <IP>:<NUM>")]  # fmt: skip
    corpus = Corpus({"a": examples[:2], "b": examples[2:]}, ("BGL",))
    reports = []
    result = train_line_lm(corpus, tokenizer, TINY, reports.append)
    assert len(reports) == TINY.steps and reports[-1].loss < reports[0].loss / 2
    again: list = []
    train_line_lm(corpus, tokenizer, replace(TINY, steps=1), again.append, init=result.model.state_dict())
    assert again[0].loss < reports[0].loss / 2  # went on from the trained weights
    save_line_lm(tmp_path / "lines", result, tokenizer, corpus, TINY)
    config = read_config(tmp_path / "lines")
    assert config.kind == "linelm" and config.provenance["data"]["held_out_systems"] == ["BGL"]
    lm = load_line_lm(tmp_path / "lines")
    seen, unseen = lm.score(["session opened for user <*>", "qzxv wklj pphh"], tag=INFO)
    assert seen.mean < unseen.mean
    assert lm.score(["session opened for user <*>"], tag=ANY, contrast=False)[0].contrast is None
    with pytest.raises(Exception, match="already exists"):
        save_line_lm(tmp_path / "lines", result, tokenizer, corpus, TINY)


def test_source_trees_are_drawn_by_their_own_cap() -> None:
    counts = {"loghub/Linux": 117, "loghub/Apache": 6, "source/kafka": 4599, "source/chrony": 24}
    config = LineLMConfig(source_cap=100, tree_cap=40)
    assert source_weights(counts, config) == {"loghub/Apache": 6, "loghub/Linux": 100, "source/chrony": 24,
                                              "source/kafka": 40}  # fmt: skip
    assert source_weights(counts, replace(config, tree_cap=100))["source/kafka"] == 100
