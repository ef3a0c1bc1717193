"""Generator training: masking, learning, checkpoints and resume, data in LoGPT format."""

from __future__ import annotations

import dataclasses
import json
import random
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from engine.analysis.prompts import DIGEST_TOKENS, prompt_format
from engine.lm.model import GPT
from engine.lm.tokenizer import Tokenizer
from train.generator import IGNORE, PRESETS, Stopping, collate, encode_example, model_config, train_generator
from train.generator_data import DataConfig, Example, build_examples, read_examples, write_examples
from train.generator_eval import evaluate_generator, rouge_l
from train.tokenizer import bytes_per_token, train_bpe


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    from train.synth.incidents import INCIDENTS, synthetic_window

    rng = random.Random(0)
    texts = ["\n".join(synthetic_window(rng, "syslog", 40, rng.choice(INCIDENTS))) for _ in range(20)]
    return train_bpe(texts, 400)


@pytest.fixture(scope="module")
def examples(tokenizer: Tokenizer) -> tuple[list[Example], list[Example]]:
    return build_examples(
        tokenizer, 200, DIGEST_TOKENS, DataConfig(None, synthetic_train=24, synthetic_eval=4, max_lines=12)
    )


def test_tokenizer_has_specials_and_compresses(tokenizer: Tokenizer) -> None:
    assert tokenizer.special("<|response_end|>") == len(tokenizer.ranks) + 6
    text = "Nov 21 10:00:01 web-1 sshd[42]: Accepted publickey for deploy from 10.0.0.4 port 50122 ssh2"
    assert tokenizer.decode(tokenizer.encode(text)) == text
    assert bytes_per_token(tokenizer, text) > 1.5


def test_examples_split_by_style_and_fit(examples, tokenizer: Tokenizer) -> None:  # noqa: ANN001
    train, held_out = examples
    assert len(train) == 24 and len(held_out) == 4
    assert {e.source for e in train} <= {"synthetic:syslog", "synthetic:iso"}
    assert {e.source for e in held_out} == {"synthetic:json"}
    assert all(tokenizer.count(e.log) <= 200 for e in train)
    assert all(e.window is None for e in train)  # training needs only the prompt's text
    assert all(e.window is None or (e.log != e.window and "lines not shown]" in e.log) for e in held_out)


def test_collate_masks_everything_but_the_reply(examples, tokenizer: Tokenizer) -> None:  # noqa: ANN001
    ids, start = encode_example(examples[0][0], tokenizer, prompt_format("logpt-digest"), 2048)
    x, y = collate([(ids, start), (ids[: start + 3], start)], pad=0)
    assert x.shape == y.shape == (2, len(ids) - 1)
    assert (y[0, : start - 1] == IGNORE).all() and (y[0, start - 1 :] != IGNORE).all()
    assert y[0, -1].item() == tokenizer.special("<|response_end|>")
    assert (y[1] != IGNORE).sum() == 3


def test_training_lowers_loss_and_resumes_exactly(examples, tokenizer: Tokenizer, tmp_path: Path) -> None:  # noqa: ANN001
    train, _ = examples
    config = dataclasses.replace(PRESETS["tiny"], steps=6, eval_every=3, val_examples=4, lr=5e-3)
    torch.manual_seed(0)
    model = GPT(model_config(config, tokenizer))
    model.init_weights(0)
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    summary = train_generator(model, tokenizer, train, config, tmp_path / "a")
    rows = [json.loads(line) for line in (tmp_path / "a" / "metrics.jsonl").read_text().splitlines()]
    assert summary["steps"] == 6 and len(rows) == 6
    vals = [r["val_loss"] for r in rows if r["val_loss"] is not None]
    assert vals[-1] < vals[0]
    assert (tmp_path / "a" / "checkpoint" / "optimizer.safetensors").is_file()

    # Interrupted after step 3 (a checkpoint step), then resumed: the same weights as the straight run.
    def stop_at_3(report) -> None:  # noqa: ANN001
        if report.step == 3:
            raise KeyboardInterrupt

    resumed = GPT(model_config(config, tokenizer))
    resumed.load_state_dict(initial)
    with pytest.raises(KeyboardInterrupt):
        train_generator(resumed, tokenizer, train, config, tmp_path / "c", on_report=stop_at_3)
    fresh = GPT(model_config(config, tokenizer))  # a new process starts from a new model
    fresh.init_weights(1)
    train_generator(fresh, tokenizer, train, config, tmp_path / "c", resume=True)
    model.load_state_dict(load_file(str(tmp_path / "a" / "checkpoint" / "model.safetensors")))
    fresh.load_state_dict(load_file(str(tmp_path / "c" / "checkpoint" / "model.safetensors")))
    for (name, a), b in zip(model.state_dict().items(), fresh.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, msg=name)


def test_training_stops_when_validation_stops_improving_or_time_is_up(examples, tokenizer: Tokenizer,  # noqa: ANN001
                                                                      tmp_path: Path) -> None:  # fmt: skip
    train, _ = examples
    config = dataclasses.replace(
        PRESETS["tiny"], steps=40, eval_every=1, val_examples=4, lr=0.5
    )  # lr too high: diverges
    torch.manual_seed(0)
    model = GPT(model_config(config, tokenizer))
    model.init_weights(0)
    summary = train_generator(model, tokenizer, train, config, tmp_path / "p", stopping=Stopping(patience=2))
    rows = [json.loads(line) for line in (tmp_path / "p" / "metrics.jsonl").read_text().splitlines()]
    assert summary["stopped"] == "patience" and summary["steps"] < 40
    losses = [r["val_loss"] for r in rows]
    best_before = min(losses[:-2])
    assert all(loss >= best_before for loss in losses[-2:])  # the last two validations were no better
    assert summary["best_val_loss"] == round(best_before, 4)
    summary = train_generator(model, tokenizer, train, dataclasses.replace(config, eval_every=100),
                              tmp_path / "t", stopping=Stopping(max_seconds=0.0))  # fmt: skip
    rows = [json.loads(line) for line in (tmp_path / "t" / "metrics.jsonl").read_text().splitlines()]
    assert summary["stopped"] == "time" and summary["steps"] == 1 and rows[-1]["val_loss"] is not None
    state = json.loads((tmp_path / "t" / "checkpoint" / "state.json").read_text())
    assert state["step"] == 1  # checkpointed where it stopped: --resume goes on from there


def test_logpt_format_jsonl_round_trip_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "user.jsonl"
    path.write_text(json.dumps({"log": "a\nb", "query": "summary", "response": "## Summary\nok"}) + "\n")
    (example,) = read_examples(path)
    assert example.facts is None and example.source == "user"
    write_examples(tmp_path / "again.jsonl", [example])
    assert read_examples(tmp_path / "again.jsonl") == [example]
    path.write_text('{"log": "a", "query": "poem", "response": "x"}\n')
    with pytest.raises(Exception, match="unknown query"):
        read_examples(path)
    path.write_text("not json\n")
    with pytest.raises(Exception, match="user.jsonl:1"):
        read_examples(path)


def test_rouge_l() -> None:
    assert rouge_l("the cat sat", "the cat sat") == 1.0
    assert rouge_l("a b c d", "a c d e") == pytest.approx(0.75)
    assert rouge_l("", "x") == 0.0


def test_evaluate_generator_runs_on_a_tiny_model(examples, tokenizer: Tokenizer) -> None:  # noqa: ANN001
    from engine.lm.bundle import LoadedBundle
    from engine.lm.devices import placement

    _, held_out = examples
    config = dataclasses.replace(PRESETS["tiny"], block_size=1024)  # room for a 200-token log and its digest
    model = GPT(model_config(config, tokenizer)).eval()
    model.init_weights(0)
    bundle_config = _bundle_config(model, tokenizer)
    bundle = LoadedBundle(Path("tiny"), bundle_config, model, tokenizer, placement("cpu"))
    scores = evaluate_generator(bundle, held_out, max_new_tokens=8)
    assert scores.examples == len(held_out)
    assert 0.0 <= scores.rouge_l <= 1.0 and 0.0 <= scores.grounding_precision <= 1.0
    assert scores.perplexity > 1.0


def _bundle_config(model: GPT, tokenizer: Tokenizer):  # noqa: ANN202
    from engine.lm.bundle import BundleConfig, TokenizerSpec

    return BundleConfig(
        model=model.config,
        tokenizer=TokenizerSpec(special_tokens=tokenizer.special_tokens),
        prompt_format="logpt-digest",
    )
