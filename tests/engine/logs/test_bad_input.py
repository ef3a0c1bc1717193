"""Hostile input through formats, mining, sessions and the detector: no crash, bounded state."""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path

import pytest

from engine.errors import InputError
from engine.logs.formats import detect_format, parse_lines
from engine.logs.templates import MinerConfig, TemplateMiner
from engine.logs.textio import decode_log, read_log, split_lines


def pipeline(text: str) -> tuple[int, TemplateMiner]:
    lines = split_lines(text)
    miner = TemplateMiner()
    keys = [miner.add(r.message) for r in parse_lines(lines, detect_format(lines).format)]
    return len(keys), miner


def test_binary_garbage_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "core.dump"
    path.write_bytes(os.urandom(1 << 16))
    with pytest.raises(InputError, match="binary"):
        read_log(path)


def test_invalid_utf8_is_replaced_not_dropped() -> None:
    text = decode_log(b"Nov 21 10:00:14 web-01 app[1]: caf\xe9 \xff\xfe ok\n" * 10)
    count, miner = pipeline(text)
    assert count == 10 and len(miner) == 1 and "\ufffd" in miner.templates()[0].text


def test_a_10_mb_single_line_is_mined_by_its_start() -> None:
    line = "x" + " token" * (10 * 1024 * 1024 // 6)
    tracemalloc.start()
    count, miner = pipeline(line + "\n" + line.replace("x", "y", 1))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == 2 and len(miner.templates()[0].text) <= MinerConfig().max_message_chars
    assert peak < 120 * 1024 * 1024  # a few copies of the line, not a token list per character


def test_escape_sequences_are_data() -> None:
    text = "\n".join(f"2026-11-21T10:00:{i:02d}Z INFO \x1b[31mred\x1b[0m \x1b]0;title\x07 n={i}" for i in range(20))
    count, miner = pipeline(text)
    assert count == 20 and len(miner) == 1


def test_empty_input() -> None:
    count, miner = pipeline("")
    assert count == 0 and len(miner) == 0


@pytest.mark.slow  # ~5 s; CI runs -m slow
def test_template_explosion_keeps_memory_bounded() -> None:
    miner = TemplateMiner(MinerConfig(max_clusters=200, cache_size=1000))
    tracemalloc.start()
    for i in range(2_500):  # over ten times the cap
        word = "".join(chr(97 + (i >> (4 * k)) % 16) for k in range(4))
        miner.add(f"{word} happened to {word[::-1]} at {word}x")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(miner) <= 200 and peak < 40 * 1024 * 1024
