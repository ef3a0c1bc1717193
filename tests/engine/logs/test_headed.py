"""Logs whose header names their columns: W3C extended logs (IIS) and Zeek's TSV logs.

Lines are written from the W3C working draft (https://www.w3.org/TR/WD-logfile), IIS's documented W3C
fields and Zeek's ASCII writer (docs.zeek.org: conn.log, http.log).
"""

from __future__ import annotations

from engine.logs.formats import detect_format, parse_lines
from engine.logs.timestamps import minute_of

IIS = [
    "#Software: Microsoft Internet Information Services 10.0",
    "#Version: 1.0",
    "#Date: 2026-03-02 10:00:00",
    "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) sc-status "
    "sc-substatus sc-win32-status time-taken",
    "2026-03-02 10:00:01 10.0.0.5 GET /shop/cart.aspx id=7 443 - 198.51.100.4 Mozilla/5.0+(X11;+Linux) 200 0 0 31",
    "2026-03-02 10:00:02 10.0.0.5 GET /shop/missing.png - 443 - 198.51.100.4 Mozilla/5.0+(X11;+Linux) 404 0 2 3",
    "2026-03-02 10:01:09 10.0.0.5 POST /shop/pay.aspx - 443 alice 198.51.100.9 curl/8.5.0 500 19 0 1201",
]
ZEEK = [
    "#separator \\x09",
    "#set_separator\t,",
    "#empty_field\t(empty)",
    "#unset_field\t-",
    "#path\thttp",
    "#open\t2026-03-02-10-00-00",
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tmethod\thost\turi\tstatus_code",
    "#types\ttime\tstring\taddr\tport\taddr\tport\tstring\tstring\tstring\tcount",
    "1772445601.118230\tCk3Lq21x0dZ3\t10.0.0.7\t50412\t93.184.216.34\t80\tGET\texample.com\t/\t200",
    "1772445662.502114\tCpQ9a84YuE1\t10.0.0.7\t50413\t93.184.216.34\t80\tGET\texample.com\t/gone\t404",
]


def test_w3c_columns_come_from_the_fields_line() -> None:
    detection = detect_format(IIS)
    assert detection.format.name == "w3c" and detection.share == 1.0
    records = list(parse_lines(IIS, detection.format))
    assert [r.timestamp for r in records] == [None, None, "2026-03-02 10:00:00", None,
                                              "2026-03-02 10:00:01", "2026-03-02 10:00:02", "2026-03-02 10:01:09"]  # fmt: skip
    assert [r.level for r in records[4:]] == ["INFO", "ERROR", "ERROR"]  # 404 is an error, as lnav reads it
    assert records[4].message.startswith("10.0.0.5 GET /shop/cart.aspx")
    assert minute_of(records[6].timestamp) == minute_of(records[4].timestamp) + 1  # type: ignore[operator]


def test_w3c_entries_with_only_a_time_take_the_day_of_the_date_directive() -> None:
    lines = ["#Version: 1.0", "#Date: 2026-03-02 23:59:58", "#Fields: time c-ip cs-method cs-uri-stem sc-status",
             "23:59:59 192.0.2.1 [1]USER anonymous 331", '23:59:59 192.0.2.1 "GET" "/a b" 226']  # fmt: skip
    detection = detect_format(lines)
    assert detection.format.name == "w3c"
    records = list(parse_lines(lines, detection.format))
    assert [r.timestamp for r in records[3:]] == ["2026-03-02 23:59:59"] * 2
    assert records[4].message == '192.0.2.1 "GET" "/a b" 226'


def test_w3c_needs_its_header() -> None:
    """Without `#Fields:` its entries are ISO lines like any other: detection leaves them to those formats."""
    assert detect_format(IIS[4:]).format.name == "iso-app"


def test_a_new_fields_line_changes_the_columns() -> None:
    lines = [*IIS, "#Fields: date time cs-method sc-status", "2026-03-02 10:02:00 GET 503"]
    records = list(parse_lines(lines, detect_format(lines).format))
    assert (records[-1].timestamp, records[-1].level, records[-1].message) == (
        "2026-03-02 10:02:00",
        "ERROR",
        "GET 503",
    )


def test_zeek_tsv_reads_ts_path_and_status() -> None:
    detection = detect_format(ZEEK)
    assert detection.format.name == "zeek" and detection.share == 1.0
    records = list(parse_lines(ZEEK, detection.format))
    assert len(records) == len(ZEEK)
    first, second = records[-2:]
    assert (first.timestamp, first.component, first.level) == ("1772445601.118230", "http", "INFO")
    assert second.level == "ERROR" and second.message.startswith("CpQ9a84YuE1\t10.0.0.7")
    assert minute_of(second.timestamp) == minute_of(first.timestamp) + 1  # type: ignore[operator]
