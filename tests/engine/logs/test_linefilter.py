import re

from engine.logs.linefilter import LineFilter

LINES = ["GET /a 200 ok", "ERROR db timeout", "WARN slow query", "GET /health 200 ok", "fatal: disk gone"]


def test_include_exclude_and_level_combine() -> None:
    assert LineFilter().scan(LINES, 10) == [10, 11, 12, 13, 14]
    assert LineFilter(include=re.compile("GET")).scan(LINES, 0) == [0, 3]
    assert LineFilter(include=re.compile("GET"), exclude=re.compile("health")).scan(LINES, 0) == [0]
    assert LineFilter(min_level="WARN").scan(LINES, 0) == [1, 2, 4]
    assert LineFilter(min_level="ERROR").scan(LINES, 0) == [1, 4]
    assert LineFilter(min_level="CRITICAL").scan(LINES, 0) == [4]


def test_describe_and_active() -> None:
    assert not LineFilter().active
    f = LineFilter(include=re.compile("a"), exclude=re.compile("b"), min_level="ERROR")
    assert f.active and f.describe() == "+/a/ −/b/ ≥ERROR"
