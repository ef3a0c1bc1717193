"""Sessions by id, component and window."""

from __future__ import annotations

import pytest

from engine.errors import InputError
from engine.logs.formats.record import Record
from engine.logs.sessions import SessionSpec, group_sessions


def rec(line: int, message: str, component: str | None = None) -> Record:
    return Record(line, line, message, component=component)


def test_by_id_with_several_ids_per_record() -> None:
    records = [
        (rec(1, "Receiving block blk_1 src"), "k1"),
        (rec(2, "copy blk_1 to blk_-2"), "k2"),
        (rec(3, "Deleting block blk_-2"), "k3"),
        (rec(4, "no block here"), "k4"),
    ]
    sessions = group_sessions(records, SessionSpec.default_for("hdfs"))
    assert [(s.id, s.keys, s.lines) for s in sessions] == [
        ("blk_1", ["k1", "k2"], [1, 2]),
        ("blk_-2", ["k2", "k3"], [2, 3]),
    ]


def test_capture_group_is_the_id() -> None:
    spec = SessionSpec.parse(r"req=(\w+)")
    sessions = group_sessions([(rec(1, "a req=x1"), "k"), (rec(2, "b req=x1"), "j")], spec)
    assert sessions[0].id == "x1" and sessions[0].keys == ["k", "j"]


def test_component_and_window() -> None:
    records = [(rec(i, "m", component="sshd" if i % 2 else "cron"), f"k{i}") for i in range(1, 8)]
    by_component = group_sessions(records, SessionSpec.parse("component"))
    assert [s.id for s in by_component] == ["sshd", "cron"] and by_component[0].lines == [1, 3, 5, 7]
    (stream,) = group_sessions(records, SessionSpec.parse("window:3"))  # windows are one stream, judged in context
    assert stream.id == "all lines" and stream.keys == [f"k{i}" for i in range(1, 8)]
    assert SessionSpec.default_for("syslog").kind == "component" and SessionSpec.default_for("json").kind == "window"


@pytest.mark.parametrize("text", ["window:x", "window:1", "blk_(["])
def test_bad_specs(text: str) -> None:
    with pytest.raises(InputError):
        SessionSpec.parse(text)
