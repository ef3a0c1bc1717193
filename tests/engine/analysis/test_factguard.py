"""Fact-constrained decoding: refused ungrounded facts, the model's choice kept otherwise, and generation unchanged
when nothing is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from engine.analysis.factguard import RUN, FactGuard
from engine.analysis.grounding import check_grounding
from engine.lm.bundle import load_bundle
from engine.lm.devices import placement
from engine.lm.generate import generate
from engine.lm.sampling import SamplingConfig
from tests.conftest import SAMPLE_LOG

STOP = 256  # one id past the bytes


def byte_guard(sources: list[str], text: str = "", greedy: bool = True, **options) -> FactGuard:
    guard = FactGuard(lambda i: bytes([i]), sources, [STOP], greedy=greedy, **options)
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


def test_a_known_address_cannot_run_on_into_a_longer_one() -> None:
    guard = byte_guard(["peer 10.10.34.13 left"], "ip: 10.10.34.13")
    assert pick(guard, prefer(".")) == "."  # a sentence may end after it
    assert pick(guard, prefer("2", "e", "\n")) == "\n"  # 10.10.34.13.2 and 10.10.34.13.e… are no facts of it
    write(guard, "again 10.10.34.1")
    assert pick(guard, prefer("4", "3")) == "3"  # 10.10.34.14 is not known, 10.10.34.13 is


def test_a_reply_cannot_loop_unless_its_sources_do() -> None:
    guard = byte_guard(["QuorumPeer on 0:0:0:0:0:0:0:0:2181: Notification time out"], "on:")
    write(guard, "from line from line from line from line")
    assert pick(guard, prefer(" ", "\n")) == "\n"  # "from line " four times in a row
    write(guard, "- at 0:0:0:0:0:0:0:0:2181 ")  # the log repeats "0:" eight times: a quote of it is no loop
    write(guard, "...")
    assert pick(guard, prefer(".", "\n")) == "\n"  # "...." is


def test_an_unfinished_fact_cannot_end_the_reply() -> None:
    guard = byte_guard(["took 5004 ms"], "after 50")
    assert pick(guard, prefer("<stop>", ".", "0")) == "0"  # "50" then stop, or "50.", cannot become 5004
    assert pick(guard, prefer("4", "<stop>")) == "4"
    assert pick(guard, prefer("<stop>")) == "<stop>"


def write(guard: FactGuard, text: str) -> None:
    for c in text:
        assert pick(guard, prefer(c)) == c


def test_quotes_are_copied_from_a_line_of_the_sources() -> None:
    log = "disk sda1 failed\nuser alice logged in"
    guard = byte_guard([log], quotable=["check it with `smartctl -a`"])
    write(guard, "saw `disk sda1 failed` and `smartctl -a`.")  # from the log, and from the knowledge base
    guard = byte_guard([log], "`disk sda")
    assert pick(guard, prefer("2", "1")) == "1"  # no line says sda2
    guard = byte_guard([log], "`failed")
    assert pick(guard, prefer("\n", "`")) == "`"  # a quote does not run over a line end
    guard = byte_guard([log], "`disk")
    assert pick(guard, prefer("<stop>", " ")) == " "  # an open quote cannot end the reply
    guard = byte_guard([log], "`")
    assert pick(guard, prefer("`", "u")) == "u"  # nor can a quote be empty
    guard = byte_guard([log], "`disk` and `us")
    assert pick(guard, prefer("a", "e")) == "e"  # the second quote is checked as well


def test_fields_take_a_value_the_digest_supports() -> None:
    fields = {"**Category:**": ["network", "storage"], "**Signature:**": ["Disk full"]}
    guard = byte_guard([], "**Category:** ", fields=fields)
    assert pick(guard, prefer("m", "s")) == "s"  # memory is no category of these facts
    write(guard, "torage\n**Signature:** Disk full (twice)")
    guard = byte_guard([], "**Category:** stor", fields=fields)
    assert pick(guard, prefer("\n", "<stop>", "a")) == "a"  # an unfinished value ends neither its line nor the reply
    guard = byte_guard([], "**Category:** network", fields=fields)
    assert pick(guard, prefer("s", "\n")) == "\n"  # "networks" is not a value
    guard = byte_guard([], "**Category:** storage\n", fields=fields)
    assert pick(guard, prefer("*", "x")) == "*"
    assert pick(guard, prefer("*", "x")) == "*"
    assert pick(guard, prefer("N", "S")) == "S"  # a line opening in bold is one of the fields
    guard = byte_guard([], "**Category:** network\n", fields=fields)
    assert pick(guard, prefer("*", "x")) == "*"
    assert pick(guard, prefer("*", "x")) == "*"
    assert pick(guard, prefer("C", "S")) == "S"  # each field comes once
    guard = byte_guard([], "**Category:** network", fields=fields)
    write(guard, "\n\nNo more fields.\n")  # blank and plain lines are free once the fields are written
    guard = byte_guard([], "done\n", fields={"**Signature:**": []})
    assert pick(guard, prefer("*", "x")) == "x"  # no signature listed: none can be named


def test_the_reply_begins_with_its_heading() -> None:
    guard = byte_guard([], start="## Root cause")
    assert pick(guard, prefer("<stop>", "#")) == "#"
    write(guard, "# Root")
    assert pick(guard, prefer("s", " ")) == " "
    write(guard, "cause\nanything")  # after the heading the reply is free


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
