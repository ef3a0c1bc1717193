"""LogSource against the slow reference (read the whole file, split lines), while the file changes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.errors import InputError
from engine.logs import logsource
from engine.logs.logsource import LogSource


def reference(path: Path) -> list[str]:
    text = path.read_bytes().decode("utf-8", errors="replace")
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logsource, "BLOCK", 7)  # lines straddle scan blocks


def test_index_and_reads_match_the_reference(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    path.write_bytes(b"one\r\ntwo \xff bad\n\nthree\nno newline at end")
    with LogSource(path) as src:
        seen = []
        src.index(lambda done, total: seen.append((done, total)))
        assert seen[-1][0] == seen[-1][1] == path.stat().st_size
        assert [src.line(i) for i in range(len(src))] == reference(path)
        assert src.index_bytes == 8 * (src._count + 1)


def test_growth_truncation_rotation_and_deletion(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_text("a\nb\n")
    src = LogSource(path)
    src.index()
    with path.open("a") as f:
        f.write("c\npartial")
    change = src.refresh()
    assert (change.kind, change.new_lines) == ("grown", 1) and src.lines(0, 10) == ["a", "b", "c", "partial"]
    with path.open("a") as f:
        f.write(" done\n")
    assert src.refresh().kind == "grown" and src.line(3) == "partial done" and len(src) == 4
    path.write_text("x\n")  # truncated in place (same inode)
    assert src.refresh().kind == "truncated" and src.lines(0, 10) == ["x"]
    os.rename(path, tmp_path / "app.log.1")  # rotated
    path.write_text("new 1\nnew 2\n")
    change = src.refresh()
    assert change.kind == "rotated" and change.new_lines == 2 and src.lines(0, 5) == ["new 1", "new 2"]
    path.unlink()
    assert src.refresh().kind == "deleted" and src.line(1) == "new 2"  # the open file still reads
    src.close()


def test_long_lines_are_cut_and_empty_files_work(tmp_path: Path) -> None:
    path = tmp_path / "long.log"
    path.write_bytes(b"x" * 5000 + b"\nshort\n")
    with LogSource(path, max_line_bytes=100) as src:
        src.index()
        assert src.line(0) == "x" * 100 + " …[line cut: 4900 more bytes]" and src.line(1) == "short"
    empty = tmp_path / "empty.log"
    empty.write_bytes(b"")
    with LogSource(empty) as src:
        assert src.index() == 0 and len(src) == 0 and src.lines(0, 10) == []
        with pytest.raises(IndexError):
            src.line(0)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        LogSource(tmp_path / "nope.log")


def test_find_forward_backward_and_wrapping(tmp_path: Path) -> None:
    import re

    path = tmp_path / "f.log"
    path.write_text("".join(("ERROR disk full\n" if i in (3, 40, 77) else f"ok {i}\n") for i in range(100)))
    with LogSource(path) as src:
        src.index()
        pattern = re.compile(r"ERROR \w+")
        assert src.find(pattern, 0, batch=7) == 3 and src.find(pattern, 4, batch=7) == 40
        assert src.find(pattern, 78, batch=7) == 3  # wraps around
        assert src.find(pattern, 39, forward=False, batch=7) == 3 and src.find(pattern, 2, forward=False, batch=5) == 77
        assert src.find(re.compile("absent"), 10) is None
        assert src.find(pattern, 0, cancelled=lambda: True) is None


def test_tail_reads_the_last_lines_without_the_index(tmp_path: Path) -> None:
    path = tmp_path / "t.log"
    path.write_bytes(b"".join(b"line %d\n" % i for i in range(1000)) + b"bad \xff byte\npartial")
    source = LogSource(path)
    lines = source.tail(max_bytes=100)
    assert lines[-2:] == ["bad \ufffd byte", "partial"] and lines[0].startswith("line ") and len(lines) < 20
    assert source.tail()[0] == "line 0"  # the whole file fits: nothing dropped
    source.close()


def test_the_cli_and_the_explorer_count_lines_alike(tmp_path: Path) -> None:
    """One definition of a line: `\\n` ends it; CRLF is one line end; a lone CR, a NUL and bad UTF-8 are characters."""
    import subprocess

    from engine.logs.textio import read_log, split_lines

    path = tmp_path / "term.log"
    path.write_bytes(b"Progress: [ 10%]\rProgress: [ 90%]\r\nok\x00ok\n\xff\xfe bad\r\n\rstart\nlast\n")
    cli = split_lines(read_log(path))
    with LogSource(path) as src:
        src.index(lambda _done, _total: None)
        explorer = src.block(0, len(src))
    assert cli == explorer == ["Progress: [ 10%]\rProgress: [ 90%]", "ok\x00ok", "\ufffd\ufffd bad", "\rstart", "last"]
    wc = subprocess.run(["wc", "-l", str(path)], capture_output=True, text=True, check=True)
    assert int(wc.stdout.split()[0]) == len(cli) == 5
