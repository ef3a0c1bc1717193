"""Format detection and record parsing on realistic lines of each family."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import InputError
from engine.logs.formats import GENERIC, all_formats, detect_format, level_of, parse_lines
from engine.logs.formats.user import load_format_file

LOGHUB = Path(__file__).resolve().parents[4] / "shared" / "datasets" / "loghub"

SAMPLES = {
    "syslog": "Nov 21 10:00:14 web-01 systemd[1]: app.service: Failed with result 'oom-kill'.",
    "syslog-5424": "<165>1 2026-11-21T10:00:14.003Z web-01 nginx 1181 ID47 [exampleSDID@32473 iut=\"3\"] upstream timed out",
    "journal-iso": "2026-11-21T10:00:14+0000 web-01 sshd[3420]: Failed password for invalid user admin from 45.83.12.200 port 40022 ssh2",
    "klog": "E1121 10:00:14.118230    4242 reflector.go:138] failed to list *v1.Pod: connection refused",
    "nginx-error": "2026/11/21 10:00:12 [error] 1181#1181: *5521 upstream timed out (110: Connection timed out)",
    "access-log": '203.0.113.9 - - [21/Nov/2026:10:00:12 +0000] "GET /v1/orders HTTP/1.1" 502 157 "-" "curl/8.5.0"',
    "log4j": "2015-10-18 18:01:47,978 WARN [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: Retrying connect",
    "iso-app": "2026-11-21T10:00:09.640Z ERROR db.query timeout after 5000ms",
    "json": '{"time": "2026-11-21T10:00:09Z", "level": "error", "logger": "db", "msg": "query timeout", "pid": 2211}',
    "hdfs": "081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_38865049064139660 terminating",
    "zookeeper": "2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@774] - Notification time out: 3200",
    "apache-error": "[Sun Dec 04 04:47:44 2005] [error] mod_jk child workerEnv in error state 6",
    "android": "03-17 16:16:09.141  1702  8671 E KeyguardUpdateMonitor: Object tried to add another callback",
    "android-time": "03-17 16:16:09.141 W/ActivityManager( 1702): Unable to start service Intent { act=com.x }",
    "android-brief": "E/AndroidRuntime( 8671): FATAL EXCEPTION: main",
    "windows-cbs": "2016-09-28 04:30:31, Error                 CSI    00000002 (F) STATUS_OBJECT_NAME_NOT_FOUND #81",
    "healthapp": "20171223-22:15:41:672|Step_StandReportReceiver|30002312|REPORT : 7028 5017 150111 240",
    "cri": "2026-11-21T10:00:09.640372Z stderr F KeyError: 'DATABASE_URL'",
    "postgresql": '2026-11-21 10:00:09.640 UTC [2211] ERROR:  relation "orders" does not exist at character 15',
    "mysql": "2026-11-21T10:00:09.640372Z 8 [Warning] [MY-010055] [Server] IP address '10.0.4.17' could not be resolved",
    "redis": "1:M 21 Nov 2026 10:00:09.640 # WARNING overcommit_memory is set to 0! Background save may fail",
    "python-logging": "ERROR:app.db:could not connect to server: Connection refused",
    "python-logging-time": "2026-11-21 10:00:09,640 - app.db - CRITICAL - giving up after 5 retries",
    "go-log": "2026/11/21 10:00:09 server.go:87: listen tcp :8080: bind: address already in use",
    "logfmt": 'time=2026-11-21T10:00:09Z level=error msg="query failed" logger=db err="timeout after 5s" pid=2211',
}  # fmt: skip
EXPECTED = {
    "syslog": ("systemd", "1", "ERROR", True),
    "syslog-5424": ("nginx", "1181", "NOTICE", False),
    "journal-iso": ("sshd", "3420", "ERROR", True),
    "klog": ("reflector.go:138", "4242", "ERROR", False),
    "nginx-error": (None, "1181", "ERROR", False),
    "access-log": (None, None, "ERROR", False),
    "log4j": ("org.apache.hadoop.mapreduce.v2.app.MRAppMaster", None, "WARN", False),
    "iso-app": (None, None, "ERROR", False),
    "json": ("db", "2211", "ERROR", False),
    "hdfs": ("dfs.DataNode$PacketResponder", "148", "INFO", False),
    "zookeeper": ("FastLeaderElection", None, "INFO", False),
    "apache-error": (None, None, "ERROR", False),
    "android": ("KeyguardUpdateMonitor", "1702", "ERROR", False),
    "android-time": ("ActivityManager", "1702", "WARN", False),
    "android-brief": ("AndroidRuntime", "8671", "ERROR", False),
    "windows-cbs": ("CSI", None, "ERROR", False),
    "healthapp": ("Step_StandReportReceiver", "30002312", None, False),
    "cri": (None, None, "ERROR", True),  # no level field: the words say error
    "postgresql": (None, "2211", "ERROR", False),
    "mysql": ("Server", "8", "WARN", False),
    "redis": (None, "1", "WARN", False),
    "python-logging": ("app.db", None, "ERROR", False),
    "python-logging-time": ("app.db", None, "CRITICAL", False),
    "go-log": ("server.go:87", None, "ERROR", True),
    "logfmt": ("db", "2211", "ERROR", False),
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_family_is_detected_and_split(name: str) -> None:
    line = SAMPLES[name]
    detection = detect_format([line] * 5)
    assert detection.format.name == name
    record = next(parse_lines([line], detection.format))
    component, pid, level, inferred = EXPECTED[name]
    assert (record.component, record.pid, *level_of(record)) == (component, pid, level, inferred)
    assert record.message and record.message in line or name in ("json", "logfmt")


def test_unknown_text_falls_back_to_generic_with_sniffed_levels() -> None:
    lines = ["hello world", "something FAILED badly", "warning: disk 91% full"]
    detection = detect_format(lines)
    assert detection.format is GENERIC
    levels = [level_of(r)[0] for r in parse_lines(lines, detection.format)]
    assert levels == [None, "ERROR", "WARN"]


def test_stack_traces_attach_to_their_first_line() -> None:
    lines = [
        "2026-11-21 10:00:09,640 ERROR [main] com.shop.Api: request failed",
        "java.lang.IllegalStateException: pool exhausted",
        "\tat com.shop.Db.get(Db.java:42)",
        "\t... 12 more",
        "Caused by: java.net.SocketTimeoutException: Read timed out",
        "2026-11-21 10:00:10,002 INFO [main] com.shop.Api: recovered",
        "a stray line that is no continuation",
    ]
    records = list(parse_lines(lines, detect_format(lines).format))
    assert [(r.line, r.end_line) for r in records] == [(1, 5), (6, 6), (7, 7)]
    assert records[0].message.count("\n") == 4 and records[2].component is None


def test_user_format_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(
        "[[format]]\nname = 'pipe'\nregex = '^(?P<ts>\\S+)\\|(?P<level>\\w)\\|(?P<message>.*)$'\nlevels = { W = 'WARN' }\n"
    )
    formats = load_format_file(path)
    detection = detect_format(["2026-11-21|W|low disk"] * 3, all_formats(formats))
    assert detection.format.name == "pipe"
    assert next(parse_lines(["2026-11-21|W|low disk"], detection.format)).level == "WARN"
    path.write_text("[[format]]\nname = 'x'\nregex = '('\n")
    with pytest.raises(InputError, match="bad regex"):
        load_format_file(path)
    path.write_text("[[format]]\nname = 'x'\nregex = '(?P<ts>.*)'\n")
    with pytest.raises(InputError, match="message"):
        load_format_file(path)


@pytest.mark.skipif(not LOGHUB.is_dir(), reason="Loghub samples (../shared/datasets/loghub) are not on this machine")
def test_every_loghub_system_is_detected_and_its_content_extracted() -> None:
    import csv

    expected = {"Linux": "syslog", "OpenSSH": "syslog", "Mac": "syslog", "Hadoop": "log4j"}
    for folder in sorted(p for p in LOGHUB.iterdir() if p.is_dir()):
        log = folder / f"{folder.name}_2k.log"
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
        detection = detect_format(lines)
        assert detection.format.name == expected.get(folder.name, folder.name.lower().replace("apache", "apache-error"))
        with open(f"{log}_structured.csv", encoding="utf-8", errors="replace", newline="") as f:
            truth = [row["Content"].strip() for row in csv.DictReader(f)]
        records = list(parse_lines(lines, detection.format, multiline=False))
        same = sum(r.message.strip() == t for r, t in zip(records, truth, strict=True))
        assert same / len(truth) > 0.98, folder.name


def test_user_formats_in_the_config_dir_reach_every_caller(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One format list: detection's default, the digest and choose_format all see the user's formats."""
    from engine.analysis.digest import build_digest
    from engine.logs.formats import choose_format, detect_format

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    folder = tmp_path / "logpt" / "formats"
    folder.mkdir(parents=True)
    (folder / "shop.toml").write_text(
        '[[format]]\nname = "shop"\n'
        "regex = '^#(?P<pid>\\d+) (?P<level>[A-Z]) (?P<component>\\w+) > (?P<message>.*)$'\n"
        'levels = { E = "ERROR", I = "INFO" }\n'
    )
    lines = [f"#{i} {'E' if i == 3 else 'I'} cart > item {i} added" for i in range(1, 20)]
    assert detect_format(lines).format.name == "shop"
    assert choose_format(lines).name == "shop"
    digest = build_digest(lines)
    assert digest.format == "shop" and digest.levels.get("ERROR") == 1


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("03-17 16:13:38.811  1702  2395 D WindowManager: printFreezingDisplayLogs", ("DEBUG", "WindowManager")),
        ("03-17 16:13:38.811  1702  2395 I ActivityManager: Start proc 8671", ("INFO", "ActivityManager")),
        ("2016-09-28 04:30:30, Info                  CBS    Loaded Servicing Stack v6.1.7601.23505", ("INFO", "CBS")),
        ("1:M 21 Nov 2026 10:00:00.123 * Ready to accept connections tcp", ("NOTICE", None)),
        ("2026-11-21 10:00:00.003 UTC [1] LOG:  database system is ready to accept connections", ("INFO", None)),
        ("2026-11-21T10:00:00.123456Z 0 [System] [MY-010116] [Server] /usr/sbin/mysqld starting", ("INFO", "Server")),
    ],
)
def test_format_specific_levels_are_canonical(line: str, expected: tuple[str, str | None]) -> None:
    record = next(parse_lines([line], detect_format([line] * 3).format))
    assert (record.level, record.component) == expected


def test_a_docker_json_log_is_json_with_its_message_and_stream() -> None:
    line = '{"log":"panic: runtime error: index out of range [3] with length 3\\n","stream":"stderr","time":"2026-11-21T10:00:09.64Z"}'
    detection = detect_format([line] * 3)
    record = next(parse_lines([line], detection.format))
    assert detection.format.name == "json" and record.message.startswith("panic: runtime error")
    assert level_of(record) == ("CRITICAL", True)


def test_logfmt_needs_pairs_and_a_message_or_level() -> None:
    from engine.logs.formats.logfmt import LOGFMT

    assert LOGFMT.parse("a=1 b=2", 1) is None  # too few pairs, no message or level
    assert LOGFMT.parse("user=alice logged in from=10.0.0.1 level=info", 1) is None  # free text between pairs
    record = LOGFMT.parse('ts=2026-11-21T10:00:09Z lvl=warn caller=main.go:12 msg="disk \\"data\\" at 91%"', 7)
    assert record is not None and record.line == 7 and record.message == 'disk "data" at 91%'
    assert (record.level, record.component, record.timestamp) == ("WARN", "main.go:12", "2026-11-21T10:00:09Z")


@pytest.mark.parametrize(
    "line",
    ["1255:M 14 Oct 03:00:46.069 # Can't save in background: fork: Cannot allocate memory",  # Redis 3.0, no year
     "[1255] 14 Oct 03:00:46.069 # Can't save in background: fork: Cannot allocate memory"],  # Redis 2
)  # fmt: skip
def test_older_redis_lines_are_redis_and_their_mark_is_the_level(line: str) -> None:
    detection = detect_format([line] * 5)
    assert detection.format.name == "redis"
    record = next(parse_lines([line], detection.format))
    assert record.level == "WARN" and record.message.startswith("Can't save")


@pytest.mark.parametrize(
    ("message", "level"),
    [("BUG: Bad page state in process lzma  pfn:a1093", "CRITICAL"),
     ("nfs: server ease not responding, still trying", "ERROR"),
     ("INFO: task objcopy:24916 blocked for more than 120 seconds.", "ERROR"),
     ("Can't save in background: fork: Cannot allocate memory", "ERROR"),
     ("ALERT exited abnormally with [1]", "CRITICAL"),
     ("Unable to lock ./ibdata1 error: 35", "ERROR"),
     ("EXT4-fs (sda2): Remounting filesystem read-only", "ERROR"),
     ("Remounting root filesystem read-write", None),
     ("data_thread() got not answer from any [Thunderbird_A8] datasource", "ERROR"),
     ("no response from 10.0.0.9 after 3 tries", "ERROR"),
     ("received a response from 10.0.0.9", None),
     ("Enabling unmasked SIMD FPU exception support... done.", None),
     ("Node card status: no ALERTs are active.", None),
     ("Intel machine check architecture supported.", None),
     ("applied the bug fix; I can scan and cancel", None)],
)  # fmt: skip
def test_words_of_failure_beyond_error(message: str, level: str | None) -> None:
    from engine.logs.formats.record import sniff_level

    assert sniff_level(message) == level


@pytest.mark.parametrize(("status", "level"), [("200", "INFO"), ("304", "INFO"), ("404", "ERROR"), ("503", "ERROR")])
def test_an_access_logs_4xx_and_5xx_are_errors_as_lnav_reads_them(status: str, level: str) -> None:
    line = f'198.51.100.4 - - [02/Mar/2026:10:00:01 +0000] "GET /shop/missing.png HTTP/1.1" {status} 153 "-" "curl/8.5.0"'
    assert next(parse_lines([line], detect_format([line] * 3).format)).level == level
