"""One file and a merged view meet the same LineSource: callers read paths, names, origin and untimed alike."""

from __future__ import annotations

from pathlib import Path

from engine.logs.linesource import LineSource
from engine.logs.logsource import LogSource
from engine.logs.merged import MergedSource


def members(source: LineSource) -> tuple:
    return list(source.paths), source.names, list(source.untimed), [source.origin(i) for i in range(len(source))]


def test_one_file_and_a_merged_view_answer_the_same_questions(tmp_path: Path) -> None:
    a, b = tmp_path / "a.log", tmp_path / "b.log"
    a.write_text("2026-11-20 10:00:01 a one\n2026-11-20 10:00:03 a two\n")
    b.write_text("2026-11-20 10:00:02 b one\nno time here\n")
    one = LogSource(a)
    one.index()
    assert members(one) == ([a], None, [], [(0, 0), (0, 1)])
    merged = MergedSource([a, b])
    merged.index()
    paths, names, untimed, origins = members(merged)
    assert paths == [a, b] and names == ["a.log", "b.log"] and untimed == []
    assert [merged.line(i) for i in range(len(merged))] == [
        "2026-11-20 10:00:01 a one", "2026-11-20 10:00:02 b one", "no time here", "2026-11-20 10:00:03 a two"]  # fmt: skip
    assert origins == [(0, 0), (1, 0), (1, 1), (0, 1)]
    one.close()
    merged.close()
