"""The cause finder: the onset of trouble (not its loudest line), the software's hints, what changed before."""

from __future__ import annotations

import re

import pytest

from engine.analysis.analyst import analyze
from engine.analysis.digest import build_digest

ROUTINE = [f"2026-03-02 10:0{i // 10}:{i % 10}0 INFO [main] Billing - batch {i} reconciled in 12 ms" for i in range(40)]


def app(minute: int, second: int, level: str, text: str) -> str:
    return f"2026-03-02 10:{minute:02d}:{second:02d} {level} [main] {text}"


def test_the_onset_is_the_warning_that_leads_into_the_errors_not_a_startup_notice_minutes_before() -> None:
    lines = [
        app(0, 1, "WARN", "Config - option cache.legacy is deprecated, use cache.mode"),  # start-up advice
        app(0, 2, "WARN", "Pool - connection pool size 4 is below the recommended minimum"),  # minutes before
        *[app(5, s, "INFO", f"Billing - batch {s} reconciled in 12 ms") for s in range(10)],
        app(5, 30, "WARN", "Ledger - replica lag 41 s on ledger-b"),  # the onset
        app(5, 31, "INFO", "Billing - batch 99 reconciled in 12 ms"),
        *[
            app(5, 40 + s, "ERROR", f"Billing - write to ledger-b failed: timeout after 5000 ms (attempt {s})")
            for s in range(8)
        ],  # fmt: skip
    ]
    cause = build_digest(lines).cause
    assert cause.onset is not None and cause.onset.line == 13 and cause.onset.why == "first warning before the errors"
    assert cause.errors is not None and cause.errors.line == 15 and cause.error_lines == 8


def test_hints_the_software_wrote_and_the_innermost_caused_by() -> None:
    lines = [
        app(1, 0, "ERROR", "Db - could not open relation"),
        app(1, 0, "INFO", "Db - HINT:  Check free space on the volume that holds the data directory."),
        app(1, 1, "ERROR", "Api - request failed"),
        "java.lang.IllegalStateException: pool exhausted",
        "\tat com.shop.Db.get(Db.java:42)",
        "Caused by: java.net.SocketTimeoutException: Read timed out",
        "Caused by: java.net.ConnectException: Connection refused (db-2:5432)",
    ]
    lines = [lines[2], *lines[3:], lines[0], lines[1]]  # the trace's record is the first error
    cause = build_digest(lines).cause
    whys = [(h.line, h.why) for h in cause.hints]
    assert (5, "innermost cause") in whys and (7, "hint") in whys
    assert "Connection refused" in next(h.text for h in cause.hints if h.why == "innermost cause")


def test_a_restart_just_before_the_onset_is_what_changed() -> None:
    lines = [*ROUTINE[:20], app(9, 0, "INFO", "Main - Restarting service with new version 4.2.0"),
             *ROUTINE[20:23], app(9, 30, "ERROR", "Billing - ledger schema check failed: column tax_code missing")]  # fmt: skip
    cause = build_digest(lines).cause
    assert cause.change is not None and cause.change.line == 21


def test_a_routine_restart_line_is_no_change() -> None:
    restart = [app(8, s, "INFO", "Worker - restarting idle worker") for s in range(6)]
    lines = [*restart, app(9, 30, "ERROR", "Billing - ledger schema check failed: column tax_code missing")]
    assert build_digest(lines).cause.change is None


@pytest.mark.parametrize(
    "trouble",
    ["kernel: BUG: Bad page state in process lzma  pfn:a1093",
     "kernel: nfs: server filer-2 not responding, still trying",
     "kernel: INFO: task rsync:2210 blocked for more than 120 seconds.",
     "backupd[311]: Can't write the archive index",
     "backupd[311]: Unable to lock the archive catalog"],
)  # fmt: skip
def test_never_no_errors_when_a_line_says_so(trouble: str) -> None:
    lines = [f"Nov 21 10:00:{i:02d} web-01 cron[{900 + i}]: (root) CMD (run-parts /etc/cron.hourly)" for i in range(12)]
    lines.insert(6, f"Nov 21 10:00:30 web-01 {trouble}")
    reply = analyze(build_digest(lines), "root_cause")
    assert "No errors" not in reply
    assert "line 7" in reply


def test_without_a_signature_the_reply_names_the_onset_and_calls_the_loudest_line_a_symptom() -> None:
    lines = [
        *ROUTINE[:10],
        app(5, 30, "WARN", "Ledger - replica lag 41 s on ledger-b"),
        *[app(5, 40 + s, "ERROR", f"Billing - write to ledger-b failed (attempt {s})") for s in range(8)],
    ]
    reply = analyze(build_digest(lines), "root_cause")
    assert "**Category:** unknown" in reply
    assert (
        "The first sign of trouble is line 11 (first warning before the errors), before the first error at line 12"
        in reply
    )
    assert "is more likely a symptom than the cause" in reply


def test_no_reply_prints_an_empty_section() -> None:
    cases = [
        ROUTINE[:10] + [app(5, 30, "WARN", "Ledger - replica lag 41 s on ledger-b")],
        ROUTINE[:10] + [app(5, 30, "ERROR", "Ledger - replica lag 41 s on ledger-b")],
        ["Nov 21 10:00:01 web-01 kernel: nfs: server filer-2 not responding, still trying"],
        ROUTINE[:10],
    ]
    for lines in cases:
        for query in ("summary", "root_cause", "action_items"):
            reply = analyze(build_digest(lines), query)
            assert not re.search(r"### [^\n]+\n*(?:\n###|\Z)", reply), reply


def test_a_brute_forces_evidence_counts_the_failing_logins_not_every_address() -> None:
    lines = [f"Nov 21 10:00:{i:02d} ftp-1 ftpd[{500 + i}]: connection from 198.51.100.{i % 3 + 1}" for i in range(30)]
    attackers = [f"203.0.113.{n}" for n in (7, 7, 7, 8, 8, 9, 10, 11)]
    for i, ip in enumerate(attackers):
        user = "root" if i % 2 == 0 else "guest"
        lines.append(
            f"Nov 21 10:01:{i:02d} ftp-1 sshd[{900 + i}]: Failed password for {user} from {ip} port 4{i}022 ssh2"
        )
    reply = analyze(build_digest(lines), "root_cause")
    evidence = reply.split("### Evidence", 1)[1]
    assert "203.0.113.7 (3)" in evidence and "(5 distinct)" in evidence
    assert "198.51.100" not in evidence
    assert "root (4)" in evidence and "guest (4)" in evidence


def test_a_start_up_line_written_as_a_warning_is_a_change_not_the_onset() -> None:
    lines = [
        "7:M 06 Jul 10:48:00.253 # Server started, Redis version 7.0.11",
        "7:M 06 Jul 10:48:00.254 * Ready to accept connections tcp",
        "7:M 06 Jul 10:53:01.001 * 10 changes in 300 seconds. Saving...",
        "31:C 06 Jul 10:53:01.001 # Failed opening the temp RDB file temp-31.rdb (in server root dir /data) for saving: Read-only file system",
        "7:M 06 Jul 10:53:01.102 # Background saving error",
    ]  # fmt: skip
    cause = build_digest(lines).cause
    assert cause.onset is not None and cause.onset.line == 4
    assert cause.change is not None and cause.change.line == 1


def test_a_long_onset_line_is_cut_between_words_so_the_reply_stays_grounded() -> None:
    from engine.analysis.grounding import check_grounding

    long = app(5, 30, "WARN", "Cache - " + "padding " * 20 + "unknown base file: /var/lib/nova/instances/_base/a489c868f0c3")
    lines = [*ROUTINE[:10], long]
    digest = build_digest(lines)
    assert digest.cause.onset is not None and digest.cause.onset.text.endswith("…")
    reply = analyze(digest, "root_cause")
    assert check_grounding(reply, ["\n".join(lines), digest.render()]).ungrounded == ()
