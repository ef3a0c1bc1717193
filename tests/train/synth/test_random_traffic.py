"""Made-up traffic: new vocabularies per window, every knowledge-base signature injectable and found."""

from __future__ import annotations

import ipaddress
import random
import re

import pytest

from engine.analysis.digest import build_digest
from engine.analysis.knowledge import default_kb
from engine.analysis.prompts import DIGEST_TOKENS
from train.generator_data import DataConfig, build_examples
from train.synth.random_traffic import random_window, redraw_numbers
from train.tokenizer import train_bpe

WORDS = re.compile(r"[A-Za-z]{4,}")


def _words(lines: list[str]) -> set[str]:
    return {w for line in lines for w in WORDS.findall(line.split(":", 3)[-1])}


def test_windows_are_reproducible_and_each_has_its_own_vocabulary() -> None:
    assert random_window(random.Random(5), "syslog", 20, None) == random_window(random.Random(5), "syslog", 20, None)
    a, b = random_window(random.Random(1), "iso", 30, None), random_window(random.Random(2), "iso", 30, None)
    assert len(a) == len(b) == 30
    shared = _words(a) & _words(b)
    assert len(shared) < 0.5 * min(len(_words(a)), len(_words(b)))


@pytest.mark.parametrize("style", ["syslog", "iso"])
def test_every_signature_injected_is_what_the_digest_finds(style: str) -> None:
    rng = random.Random(0)
    kb = default_kb()
    missed = []
    for signature in kb.signatures:
        window = random_window(rng, style, 10, signature)
        digest = build_digest(window, first_line=1)
        # Found as itself, or as a narrower signature that refines it (its numbers redrawn, an example of a
        # page allocation failure may ask for a high order).
        found = {m.id for m in digest.signatures} | {kb.by_id[m.id].refines for m in digest.signatures}
        if signature.id not in found:
            missed.append(signature.id)
    assert not missed


def test_redrawn_numbers_keep_names_and_addresses_valid() -> None:
    rng = random.Random(3)
    line = "Failed password for root from 203.0.113.9 port 50122 ssh2; EXT4-fs error 17 on md0 v1.2.3"
    out = redraw_numbers(line, rng)
    assert out != line
    for kept in ("ssh2", "EXT4-fs", "md0", "v1.2.3"):
        assert kept in out
    address = re.search(r"from (\S+) port", out)
    assert address is not None and ipaddress.ip_address(address.group(1))
    assert len(out) >= len(line) - 4  # numbers keep their length; an address may shrink


def test_made_up_examples_are_training_only_and_leave_the_others_unchanged() -> None:
    tokenizer = train_bpe(["\n".join(random_window(random.Random(i), "syslog", 30, None)) for i in range(10)], 350)
    base = DataConfig(None, synthetic_train=8, synthetic_eval=4, max_lines=12)
    plain = build_examples(tokenizer, 200, DIGEST_TOKENS, base)
    train, held_out = build_examples(tokenizer, 200, DIGEST_TOKENS, DataConfig(**{**base.__dict__, "made_up_train": 6}))
    assert held_out == plain[1]
    assert sorted(e.to_json() for e in train if not e.source.startswith("made-up:")) == sorted(
        e.to_json() for e in plain[0]
    )
    made_up = [e for e in train if e.source.startswith("made-up:")]
    assert len(made_up) == 6 and {e.source for e in made_up} <= {"made-up:syslog", "made-up:iso"}
