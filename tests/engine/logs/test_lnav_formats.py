"""lnav's JSON format files as user formats: patterns, fields, levels, times, JSON formats, what is not read."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from engine.errors import InputError
from engine.logs.clock import seconds_of
from engine.logs.formats import detect_format, parse_lines
from engine.logs.formats.user import load_format_file, load_user_formats

# Written from lnav's documented format layout (lnav.org, "Log Formats"), not copied from its files.
MYAPP = {
    "$schema": "https://lnav.org/schemas/format-v1.schema.json",
    "myapp_log": {
        "title": "My app",
        "regex": {
            "std": {"pattern": r"^(?<timestamp>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) \[(?<lvl>\w+)\] (?<pid>\d+) (?<body>.*)$"},
            "short": {"pattern": r"^(?<timestamp>\d{2}/\d{2} \d{2}:\d{2}:\d{2}) (?<lvl>\w) (?<body>.*)$"},
        },
        "level-field": "lvl",
        "level": {"error": "ERR|^E$", "warning": "WRN|^W$", "info": "INF|^I$"},
        "timestamp-format": ["%Y-%m-%d %H:%M:%S", "%m/%d %H:%M:%S"],
        "value": {"pid": {"kind": "integer"}},
        "highlights": {"ip": {"pattern": r"\d+\.\d+\.\d+\.\d+"}},
        "sample": [{"line": "2024-01-02 10:00:00 [INF] 42 started"}],
    },
    "myjson_log": {"json": True, "timestamp-field": "ts", "level-field": "@fields/lvl", "body-field": "msg",
                   "level": {"error": "error|fatal"}, "line-format": [{"field": "msg"}]},
}  # fmt: skip
LINES = ["2024-01-02 10:00:00 [INF] 42 started", "2024-01-02 10:00:05 [ERR] 42 disk gone", "01/02 10:00:09 W low memory"]


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "myapp.json"
    path.write_text(json.dumps(data))
    return path


def test_an_lnav_format_reads_its_patterns_fields_levels_and_times(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="logpt"):
        text, js = load_format_file(write(tmp_path, MYAPP))
    assert (text.name, js.name) == ("myapp_log", "myjson_log")
    assert "highlights" in caplog.text and "line-format" in caplog.text and "value" in caplog.text  # one warning
    records = list(parse_lines(LINES, text))
    assert [(r.message, r.level, r.pid) for r in records] == [("started", "INFO", "42"), ("disk gone", "ERROR", "42"),
                                                              ("low memory", "WARN", None)]  # fmt: skip
    assert seconds_of(records[1].timestamp or "") == seconds_of("2024-01-02T10:00:05")
    assert seconds_of(records[2].timestamp or "", 2024) == seconds_of("2024-01-02T10:00:09")  # no year: the file's
    assert detect_format(LINES * 5, [text, js]).format.name == "myapp_log"
    (record,) = parse_lines(['{"ts": "2024-01-02T10:00:00Z", "@fields": {"lvl": "fatal"}, "msg": "boom"}'], js)
    assert (record.message, record.level, record.timestamp) == ("boom", "ERROR", "2024-01-02T10:00:00Z")


def test_a_broken_lnav_file_is_one_line_error(tmp_path: Path) -> None:
    for data, message in (([], "not an lnav format file"), ({"x": 3}, "is not an object"),
                          ({"x": {"regex": {}}}, "has no regex pattern"),
                          ({"x": {"regex": {"a": {"pattern": "(?<body>(a"}}}}, "bad regex")):  # fmt: skip
        with pytest.raises(InputError, match=message) as e:
            load_format_file(write(tmp_path, data))
        assert "\n" not in str(e.value)


def test_lnav_users_formats_are_found_in_lnavs_folders_but_not_its_shipped_copies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    mine, shipped = tmp_path / ".lnav" / "formats" / "installed", tmp_path / ".lnav" / "formats" / "default"
    for folder in (mine, shipped):
        folder.mkdir(parents=True)
    (mine / "myapp.json").write_text(json.dumps({"myapp_log": MYAPP["myapp_log"]}))
    (shipped / "syslog.json").write_text(json.dumps({"syslog_log": MYAPP["myapp_log"]}))
    names = [f.name for f in load_user_formats()]
    assert "myapp_log" in names and "syslog_log" not in names
