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


def test_a_source_scan_in_blocks_passes_the_lines_a_line_by_line_scan_does(tmp_path) -> None:  # noqa: ANN001
    from engine.logs.logsource import LogSource
    from engine.logs.userregex import UserRegex

    path = tmp_path / "a.log"
    path.write_bytes(b"".join(line.encode() + ending for line in LINES for ending in (b"\n", b"\r\n")) + b"\xff ERROR x")
    with LogSource(path) as source:
        source.index()
        texts = source.block(0, len(source))
        rules = [LineFilter(include=UserRegex("GET|ERROR")), LineFilter(exclude=UserRegex("ok$")),
                 LineFilter(UserRegex("(?i)error"), UserRegex("db"), "ERROR"), LineFilter(min_level="WARN"),
                 LineFilter(include=re.compile("GET"))]  # fmt: skip
        for rule in rules:
            assert rule.scan_source(source, 0, len(source)) == rule.scan(texts, 0), rule.describe()
            assert rule.scan_source(source, 3, 7) == rule.scan(texts[3:7], 3), rule.describe()
