"""The whole-file map of a file on disk: spans and blocks read the lines `split_lines` does; two processes
find what one map over the lines in memory finds; cancelling stops both."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

import engine.analysis.wholefile as wf
from engine.analysis.timeline import episodes_of
from engine.logs.formats import detect_format
from engine.logs.textio import read_log, split_lines
from train.synth.incidents import INCIDENTS, synthetic_window


def synthetic_log(path: Path, n: int, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    lines: list[str] = []
    while len(lines) < n:
        lines += synthetic_window(rng, "syslog", 60, rng.choice((None, *INCIDENTS)))
    path.write_text("\n".join(lines) + "\n")
    return lines


@pytest.mark.parametrize("ending", [b"\n", b""])
def test_spans_and_blocks_read_the_lines_split_lines_reads(tmp_path: Path, monkeypatch, ending: bytes) -> None:  # noqa: ANN001
    monkeypatch.setattr(wf, "BLOCK_BYTES", 64)  # many blocks, cut anywhere
    path = tmp_path / "odd.log"
    data = b"".join(f"line {i} caf\xc3\xa9 \r\xff end\r\n".encode("latin-1") if i % 3 else f"l{i}\n".encode()
                    for i in range(400))  # fmt: skip
    path.write_bytes(data.rstrip(b"\n") + ending)
    expected = split_lines(read_log(path))
    for parts in (1, 2, 3, 7):
        spans = wf.scan(path, parts)
        assert len(spans) == parts and sum(s.lines for s in spans) == len(expected)
        assert [s.first_line for s in spans] == [1 + sum(s.lines for s in spans[:k]) for k in range(parts)]
        assert [line for s in spans for block in wf.blocks(s) for line in block] == expected


def test_an_empty_file_has_no_spans(tmp_path: Path) -> None:
    (tmp_path / "empty.log").write_bytes(b"")
    assert wf.scan(tmp_path / "empty.log", 2) == []


def test_two_processes_find_what_one_map_in_memory_finds(tmp_path: Path) -> None:
    path = tmp_path / "big.log"
    lines = synthetic_log(path, 6000)
    fmt = detect_format(lines[:200]).format
    reference = {e.key: (e.first_line, e.first_time, e.count) for e in episodes_of(lines, chunk_lines=500)}
    heard: list[int] = []
    progress: list[tuple[int, int]] = []
    found = wf.map_file(wf.scan(path, 2), fmt, 500, on_episode=lambda e: heard.append(e.first_line),
                        on_progress=lambda done, total: progress.append((done, total)))  # fmt: skip
    assert {e.key: (e.first_line, e.first_time, e.count) for e in found} == reference and len(reference) >= 10
    assert heard == sorted(heard) == [e.first_line for e in found]  # every episode heard of, in file order
    assert progress[-1][1] == len(lines) and max(done for done, _ in progress) <= len(lines)
    assert found[-1].last_seen[1] <= len(lines)


def test_cancelling_stops_this_process_and_the_workers(tmp_path: Path) -> None:
    path = tmp_path / "big.log"
    lines = synthetic_log(path, 6000)
    fmt = detect_format(lines[:200]).format
    start = time.perf_counter()
    found = wf.map_file(wf.scan(path, 2), fmt, 500, cancelled=lambda: True)
    assert found == [] and time.perf_counter() - start < 30


def test_a_file_cut_short_while_it_is_read_ends_the_span_there(tmp_path: Path) -> None:
    path = tmp_path / "cut.log"
    path.write_text("".join(f"line {i}\n" for i in range(1000)))
    (span,) = wf.scan(path, 1)
    with path.open("r+b") as f:
        f.truncate(500)  # rotated with copytruncate, say, between the scan and the read
    got = [line for block in wf.blocks(span) for line in block]
    assert got == split_lines(read_log(path))


def test_a_worker_that_fails_has_its_span_mapped_here(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    path = tmp_path / "big.log"
    lines = synthetic_log(path, 3000)
    fmt = detect_format(lines[:200]).format
    reference = {e.key: (e.first_line, e.count) for e in episodes_of(lines, chunk_lines=500)}
    monkeypatch.setattr(wf.sys, "executable", "/bin/false")  # the worker exits 1 at once
    found = wf.map_file(wf.scan(path, 2), fmt, 500)
    assert {e.key: (e.first_line, e.count) for e in found} == reference
