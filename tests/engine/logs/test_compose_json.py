"""docker compose's prefixed output, and JSON lines with epoch times and nested or numeric levels.

Lines are written from docker compose's documented `logs` output (v2 `web-1  | `, v1 `web_1  | `, colours
on a terminal, `--timestamps`), pino's and bunyan's level scale, MongoDB 4.4+'s structured log
(`{"t":{"$date":…},"s":"I","c":…}`), logstash's `@fields`, OTLP JSON and Log4j2's JsonTemplateLayout.
"""

from __future__ import annotations

import pytest

from engine.logs.formats import detect_format, parse_lines
from engine.logs.timestamps import minute_of


def test_compose_prefix_names_the_container_and_the_line_keeps_its_time_and_level() -> None:
    lines = [
        "db-1   | 2026-03-02 10:22:40.118 UTC [1] LOG:  database system is ready to accept connections",
        "web-1  | [2026-03-02 10:22:41 +0000] [ERROR] Worker (pid:9) was sent SIGKILL!",
        '\x1b[36mproxy-1  |\x1b[0m {"level":"warn","ts":1772446961.5,"msg":"upstream slow"}',
        "web_1  | WARNING: This is a development server.",
    ]
    detection = detect_format(lines)
    assert detection.format.name == "docker-compose"
    records = list(parse_lines(lines, detection.format))
    assert [(r.component, r.level) for r in records] == [
        ("db-1", None), ("web-1", "ERROR"), ("proxy-1", "WARN"), ("web_1", "WARN")]  # fmt: skip
    assert records[0].timestamp == "2026-03-02 10:22:40.118 UTC"  # the zone is part of the time as written
    assert records[1].message.startswith("[2026-03-02 10:22:41 +0000]")
    assert (records[2].message, records[2].timestamp) == ("upstream slow", "1772446961.5")


def test_compose_does_not_take_a_plain_log() -> None:
    lines = ["2026-03-02 10:22:40 ERROR could not open /data | retrying"] * 5
    assert detect_format(lines).format.name != "docker-compose"


@pytest.mark.parametrize(
    ("line", "level", "minute"),
    [('{"level":30,"time":1772446960123,"pid":7,"hostname":"h","msg":"listening"}', "INFO", True),  # pino
     ('{"name":"app","level":50,"time":"2026-03-02T10:22:40.123Z","msg":"failed","v":0}', "ERROR", True),  # bunyan
     ('{"t":{"$date":"2026-03-02T10:22:40.123+00:00"},"s":"W","c":"STORAGE","id":22220,"ctx":"initandlisten",'
      '"msg":"Detected unclean shutdown"}', "WARN", True),  # MongoDB
     ('{"@timestamp":"2026-03-02T10:22:40Z","@fields":{"lvl":"ERROR"},"@message":"disk full"}', "ERROR", True),
     ('{"instant":{"epochSecond":1772446960,"nanoOfSecond":123000000},"level":"DEBUG","message":"tick"}',
      "DEBUG", True),  # Log4j2 JsonTemplateLayout
     ('{"level":3,"msg":"syslog severity 3"}', "ERROR", False)],
)  # fmt: skip
def test_json_levels_and_epoch_times(line: str, level: str, minute: bool) -> None:
    detection = detect_format([line] * 3)
    assert detection.format.name == "json"
    record = next(parse_lines([line], detection.format))
    assert record.level == level
    assert (minute_of(record.timestamp) is not None) is minute


def test_an_otlp_json_line_is_read_as_its_first_log_record() -> None:
    line = (
        '{"resourceLogs":[{"resource":{"attributes":[]},"scopeLogs":[{"scope":{"name":"shop"},"logRecords":['
        '{"timeUnixNano":"1772446960123000000","severityNumber":17,"severityText":"ERROR",'
        '"body":{"stringValue":"payment declined"}}]}]}]}'
    )
    record = next(parse_lines([line], detect_format([line] * 3).format))
    assert (record.message, record.level, record.timestamp) == ("payment declined", "ERROR", "1772446960123000000")
    assert minute_of(record.timestamp) is not None
