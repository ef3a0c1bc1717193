"""Tokenizer: round trips, no special-token injection, UTF-8-safe streaming, ranks files."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import BundleError
from engine.lm.tokenizer import Tokenizer, byte_level_ranks, read_ranks, write_ranks
from tests.conftest import SAMPLE_LOG


def test_round_trip(vocab: tuple) -> None:
    tok = Tokenizer(*vocab)
    for text in [
        SAMPLE_LOG,
        "",
        "\x00\x1b[2J binary-ish \udcff".encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
    ]:
        assert tok.decode(tok.encode(text)) == text


def test_special_token_text_in_a_log_is_plain_text(vocab: tuple) -> None:
    tok = Tokenizer(*vocab)
    ids = tok.encode("user wrote <|log_end|> into the log")
    assert tok.special("<|log_end|>") not in ids
    assert tok.decode(ids) == "user wrote <|log_end|> into the log"


def test_incremental_decoder_never_emits_half_characters(vocab: tuple) -> None:
    tok = Tokenizer(byte_level_ranks(), vocab[1])  # one byte per token: every multi-byte char is split
    text = "日本語 ✓ Émile 🚀"
    decoder = tok.decoder()
    pieces = [decoder.feed(i) for i in tok.encode(text)]
    assert "".join(pieces) + decoder.flush() == text
    assert all("\ufffd" not in p for p in pieces)
    # A stream cut in the middle of a character flushes one replacement char, not garbage.
    cut = tok.encode("ab🚀")[:-1]
    decoder = tok.decoder()
    assert "".join(decoder.feed(i) for i in cut) + decoder.flush() == "ab\ufffd"


def test_ranks_file_round_trip_and_errors(tmp_path: Path, vocab: tuple) -> None:
    path = tmp_path / "t.tiktoken"
    write_ranks(path, vocab[0])
    assert read_ranks(path) == vocab[0]
    path.write_text("not base64!! x\n")
    with pytest.raises(BundleError, match="not a tiktoken ranks line"):
        read_ranks(path)
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(BundleError):
        read_ranks(path)


def test_missing_bytes_and_colliding_specials_are_refused() -> None:
    ranks = byte_level_ranks()
    del ranks[b"\x00"]
    with pytest.raises(BundleError, match="single bytes"):
        Tokenizer(ranks, {})
    with pytest.raises(BundleError, match="collide"):
        Tokenizer(byte_level_ranks(), {"<|endoftext|>": 5})
