"""A record whole: its span over continuation lines, and its fields for JSON, logfmt and parsed formats."""

from __future__ import annotations

import json

from engine.logs.formats import detect_format
from engine.logs.recordview import record_fields, record_span

TRACE = [
    "2026-11-20 10:00:00,001 INFO app: started",
    "2026-11-20 10:00:01,002 ERROR app: request failed",
    "Traceback (most recent call last):",
    '  File "/srv/app.py", line 12, in handle',
    "    db.connect()",
    "ConnectionRefusedError: [Errno 111] Connection refused",
    "2026-11-20 10:00:02,003 INFO app: retrying",
]


def test_a_stack_trace_is_one_record_from_any_of_its_lines() -> None:
    for line in range(1, 6):
        assert record_span(TRACE.__getitem__, line, len(TRACE)) == (1, 6)
    assert record_span(TRACE.__getitem__, 0, len(TRACE)) == (0, 1)
    assert record_span(TRACE.__getitem__, 6, len(TRACE)) == (6, 7)


def test_fields_of_a_parsed_record_and_its_continuation_lines() -> None:
    fmt = detect_format(TRACE).format
    found = record_fields(TRACE[1:6], fmt)
    assert dict(found.fields)["level"] == "ERROR" and dict(found.fields)["message"].endswith("request failed")
    assert found.extra[-1].startswith("ConnectionRefusedError")


def test_a_json_record_keeps_every_key_and_is_pretty_printed() -> None:
    obj = {"time": "2026-11-20T10:00:00Z", "level": "error", "msg": "upstream | timeout", "ctx": {"host": "db-1"}}
    found = record_fields([json.dumps(obj)], None)
    assert found.kind == "json" and dict(found.fields)["ctx"] == '{"host": "db-1"}'
    assert json.loads(found.pretty) == obj and "\n  " in found.pretty


def test_a_logfmt_record_is_a_field_table_and_plain_text_is_its_message() -> None:
    found = record_fields(['time=2026-11-20T10:00:00Z level=warn msg="disk almost full" free=2%'], None)
    assert found.kind == "logfmt" and found.fields[2] == ("msg", "disk almost full")
    assert record_fields(["just words"], None).fields == [("message", "just words")]
