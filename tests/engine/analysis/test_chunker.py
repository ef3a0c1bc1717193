"""Chunks are line-aligned, cover every line once and always fit the budget."""

from __future__ import annotations

import pytest

from engine.analysis.chunker import chunk_budget, chunk_lines
from engine.errors import InputError
from engine.lm.tokenizer import Tokenizer
from engine.logs.textio import decode_log, looks_binary, split_lines
from tests.conftest import SAMPLE_LOG


@pytest.fixture
def tok(vocab: tuple) -> Tokenizer:
    return Tokenizer(*vocab)


@pytest.mark.parametrize("budget", [40, 100, 333])
def test_chunks_fit_and_cover_every_line(tok: Tokenizer, budget: int) -> None:
    lines = split_lines(SAMPLE_LOG * 5)
    chunks = list(chunk_lines(lines, tok.count, budget))
    assert chunks[0].first_line == 1 and chunks[-1].last_line == len(lines)
    for a, b in zip(chunks, chunks[1:], strict=False):
        assert b.first_line == a.last_line + 1 and b.index == a.index + 1
    for c in chunks:
        assert c.n_tokens == tok.count(c.text) <= budget
        if not c.cut_lines:
            assert c.text.split("\n") == lines[c.first_line - 1 : c.last_line]


def test_a_line_longer_than_the_budget_is_cut_with_a_marker(tok: Tokenizer) -> None:
    long = "x=" + "abc123 " * 5000
    chunks = list(chunk_lines(["short", long, "after"], tok.count, 80))
    cut = [c for c in chunks if c.cut_lines]
    assert len(cut) == 1 and "…[cut" in cut[0].text and cut[0].n_tokens <= 80
    assert cut[0].first_line == cut[0].last_line == 2
    assert [c.first_line for c in chunks] == [1, 2, 3]


def test_whitespace_merges_across_lines_are_counted_exactly(tok: Tokenizer) -> None:
    lines = ["abc   ", "   def", "\t\t", "ghi  "] * 50
    for c in chunk_lines(lines, tok.count, 30):
        assert tok.count(c.text) <= 30


def test_budget_arithmetic() -> None:
    assert chunk_budget(1024, 256, 20) == 748
    with pytest.raises(ValueError):
        chunk_budget(256, 250, 10)


def test_decoding_handles_crlf_invalid_utf8_and_nul() -> None:
    text = decode_log(b"one\r\ntwo \xff\xfe bad\rthree\x00four\n")
    assert split_lines(text) == ["one", "two \ufffd\ufffd bad\rthree\x00four"]  # a lone CR breaks no line
    assert split_lines(decode_log(b"")) == []
    assert split_lines("a\n\nb") == ["a", "", "b"]


def test_binary_input_is_refused_but_a_few_nuls_are_not() -> None:
    with pytest.raises(InputError, match="binary"):
        decode_log(bytes(range(256)) * 100, source="x.bin")
    assert not looks_binary(b"kernel: ok\n" * 1000 + b"\x00" * 100)
    assert not looks_binary(b"\x1b[31mERROR\x1b[0m coloured\n" * 100)
