"""journald's export format: entries of KEY=VALUE lines, binary fields, detection, cut entries, the digest."""

from __future__ import annotations

import struct

from engine.analysis.digest import build_digest
from engine.logs.formats import detect_format, parse_lines
from engine.logs.formats.journal import JOURNAL_EXPORT
from engine.logs.recordview import record_fields, record_span
from engine.logs.textio import decode_log, split_lines

TRACEBACK = "Traceback (most recent call last):\n  File \"app.py\", line 3\nKeyError: 'DATABASE_URL'"


def entry(i: int, message: str, priority: int, ident: str, pid: int) -> bytes:
    """One entry as `journalctl -o export` writes it: a message with a newline goes out as a binary field."""
    fields = [
        f"__CURSOR=s=739ad463348b4ceca5a9e69c95a3c93f;i=4ece{i};b=6c7c6013a8194c0ab29e7577a4f9a4e3;m=266b0dd0",
        f"__REALTIME_TIMESTAMP={1764478000000000 + i * 1_000_000}",
        "__MONOTONIC_TIMESTAMP=644753872",
        "_BOOT_ID=6c7c6013a8194c0ab29e7577a4f9a4e3",
        "_TRANSPORT=syslog",
        f"PRIORITY={priority}",
        "SYSLOG_FACILITY=3",
        f"SYSLOG_IDENTIFIER={ident}",
    ]
    out = [f.encode() for f in fields]
    data = message.encode()
    out.append(b"MESSAGE\n" + struct.pack("<Q", len(data)) + data if "\n" in message else b"MESSAGE=" + data)
    out += [f"_PID={pid}".encode(), b"_UID=0", f"_COMM={ident}".encode(), b"_HOSTNAME=web-1"]
    return b"\n".join(out) + b"\n\n"


EXPORT = b"".join(
    [
        entry(0, "Started Session 1 of user root.", 6, "systemd", 1),
        entry(1, "Failed password for root from 10.0.0.5 port 22 ssh2", 4, "sshd", 811),
        entry(2, TRACEBACK, 3, "app", 900),
        entry(3, "app.service: Main process exited, code=exited, status=1/FAILURE", 3, "systemd", 1),
    ]
)
LINES = split_lines(decode_log(EXPORT))


def test_export_is_detected_and_each_entry_is_one_record() -> None:
    assert detect_format(LINES).format is JOURNAL_EXPORT
    records = list(parse_lines(LINES, JOURNAL_EXPORT))
    assert [(r.line, r.end_line) for r in records] == [(1, 14), (15, 28), (29, 45), (46, 59)]
    assert len(LINES) == 59
    first, sshd, app, unit = records
    assert first.message == "Started Session 1 of user root." and first.level == "INFO"
    assert first.timestamp == "2025-11-30T04:46:40.000000Z" and first.component == "systemd" and first.pid == "1"
    assert sshd.level == "WARN" and sshd.component == "sshd" and sshd.pid == "811"
    assert app.message == TRACEBACK and app.level == "ERROR"  # the binary field, newlines and all
    assert unit.level == "ERROR"


def test_an_entry_cut_by_a_chunk_start_keeps_the_fields_it_still_has() -> None:
    records = list(parse_lines(LINES[35:], JOURNAL_EXPORT, first_line=36))
    assert [(r.line, r.end_line) for r in records] == [(36, 45), (46, 59)]
    assert records[0].message == TRACEBACK and records[0].component == "app" and records[0].timestamp is None
    assert sum(r.end_line - r.line + 1 for r in records) == len(LINES) - 35  # no line lost


def test_only_entries_make_an_export_log() -> None:
    assert detect_format(["PRIORITY=6", "MESSAGE=hello", "_PID=1"]).format.name != "journal-export"  # no cursor
    syslog = [f"Nov 21 10:00:{i:02d} web-01 app[7]: request {i} served" for i in range(60)]
    assert detect_format(["__CURSOR=s=1;i=2", *syslog]).format.name == "syslog"  # one stray cursor line


def test_the_record_view_shows_the_whole_entry_and_its_fields() -> None:
    first, stop = record_span(LINES.__getitem__, 40, len(LINES), JOURNAL_EXPORT)
    assert (first, stop) == (28, 45)
    fields = dict(record_fields(LINES[first:stop], JOURNAL_EXPORT).fields)
    assert fields["MESSAGE"] == TRACEBACK and fields["SYSLOG_IDENTIFIER"] == "app" and fields["PRIORITY"] == "3"


def test_the_digest_reads_the_entries_messages() -> None:
    digest = build_digest(LINES, fmt=JOURNAL_EXPORT)
    assert digest.levels == {"ERROR": 2, "WARN": 1, "INFO": 1}
    assert digest.primary is not None and digest.primary.first_line == 29  # the missing setting, not the unit
    assert "DATABASE_URL" in digest.primary.example and not digest.primary.example.startswith("__CURSOR")
    assert {t.template.split(":")[0] for t in digest.problems} >= {"app.service"}


def test_a_hostile_entry_gives_a_record_without_a_time_not_a_crash() -> None:
    lines = ["__CURSOR=s=1", "__REALTIME_TIMESTAMP=999999999999999999", "PRIORITY=99", "MESSAGE\x00", "MESSAGE", ""]
    (record,) = parse_lines(lines, JOURNAL_EXPORT)
    assert record.timestamp is None and record.level is None and (record.line, record.end_line) == (1, 6)
