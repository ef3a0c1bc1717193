"""Fact-constrained decoding: refused ungrounded facts, the model's choice kept otherwise, and generation unchanged
when nothing is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from engine.bundle import load_bundle
from engine.devices import placement
from engine.factguard import RUN, FactGuard
from engine.generate import generate
from engine.grounding import check_grounding
from engine.sampling import SamplingConfig
from tests.conftest import SAMPLE_LOG

STOP = 256  # one id past the bytes


def byte_guard(sources: list[str], text: str = "", greedy: bool = True) -> FactGuard:
    guard = FactGuard(lambda i: bytes([i]), sources, [STOP], greedy=greedy)
    for b in text.encode():
        guard.accept(b)
    return guard


def prefer(*chars: str) -> torch.Tensor:
    """Logits (1, 257) ranking these characters first, in order."""
    logits = torch.zeros(1, STOP + 1)
    for rank, c in enumerate(chars):
        logits[0, STOP if c == "<stop>" else ord(c)] = 100.0 - rank
    return logits


def pick(guard: FactGuard, logits: torch.Tensor) -> str:
    token = int(guard(logits).argmax())
    guard.accept(token)
    return "<stop>" if token == STOP else chr(token)


def test_a_fact_is_steered_to_one_in_the_sources() -> None:
    guard = byte_guard(["conn from 10.0.0.5 port 8080 refused"], "peer ")
    assert pick(guard, prefer("9", "1")) == "1"  # no fact of the sources starts with 9
    for c in "0.0.0.":
        assert pick(guard, prefer(c)) == c
    assert pick(guard, prefer("7", " ", "5")) == "5"  # 10.0.0.7 is not in the log, and 10.0.0. is unfinished
    assert pick(guard, prefer(" ")) == " "  # 10.0.0.5 is complete and known
    assert guard.masked_steps == 2 and guard.stuck_steps == 0


def test_an_unfinished_fact_cannot_end_the_reply() -> None:
    guard = byte_guard(["took 5004 ms"], "after 50")
    assert pick(guard, prefer("<stop>", ".", "0")) == "0"  # "50" then stop, or "50.", cannot become 5004
    assert pick(guard, prefer("4", "<stop>")) == "4"
    assert pick(guard, prefer("<stop>")) == "<stop>"


def test_words_with_digits_are_not_facts() -> None:
    guard = byte_guard(["nothing numeric here"], "the ext")
    assert pick(guard, prefer("4")) == "4"  # "ext4" is a word, not a number
    assert guard.masked_steps == 0


def test_sampling_keeps_every_acceptable_candidate() -> None:
    guard = byte_guard(["ports 8080 and 8443"], "port ", greedy=False)
    masked = guard(prefer("9", "8", "a"))
    allowed = {chr(i) for i in torch.isfinite(masked[0]).nonzero().flatten().tolist() if i < STOP}
    assert "9" not in allowed and {"8", "a"} <= allowed


def test_generation_is_unchanged_when_nothing_is_refused(tiny_bundle: Path) -> None:
    class Everything:
        def __call__(self, logits: torch.Tensor) -> torch.Tensor:
            return logits

        def accept(self, token_id: int) -> None:
            pass

    bundle = load_bundle(tiny_bundle, placement("cpu"))
    prompt = bundle.tokenizer.encode(SAMPLE_LOG[:300])
    plain = list(generate(bundle.model, prompt, max_new_tokens=40, sampling=SamplingConfig(temperature=0.0)))
    processed = list(
        generate(
            bundle.model, prompt, max_new_tokens=40, sampling=SamplingConfig(temperature=0.0), processor=Everything()
        )
    )
    assert processed == plain


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_random_model_states_only_facts_of_its_sources(tiny_bundle: Path, seed: int) -> None:
    bundle = load_bundle(tiny_bundle, placement("cpu"))
    tok = bundle.tokenizer
    source = SAMPLE_LOG[:400]
    guard = FactGuard.for_tokenizer(tok, [source], bundle.stop_ids(), greedy=False)
    ids = generate(bundle.model, tok.encode(source[:200]), max_new_tokens=150, sampling=SamplingConfig(temperature=1.5),
                   seed=seed, stop_ids=bundle.stop_ids(), processor=guard)  # fmt: skip
    data = tok.decode_bytes(list(ids))
    finished = data[: len(data) - len(RUN.search(data).group(0))]  # the last run may be cut by the token budget
    text = finished.decode("utf-8", errors="replace")
    unguarded = check_grounding(text, [source])
    assert guard.stuck_steps == 0 and unguarded.ungrounded == ()
