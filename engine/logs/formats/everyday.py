"""Formats people open every day beyond syslog: Android, Windows servicing, phones' health apps, container
runtimes, databases, Python and Go programs. Each is a regex over the line (`spec.regex_format`); logfmt
(also Go's slog text output) has a parser of its own (`engine.logs.formats.logfmt`).

They come before the general families of `builtin.py` (syslog, ISO-8601 application logs), which some of
them resemble, and after Loghub's system formats.
"""

from __future__ import annotations

from engine.logs.formats.spec import LogFormat, regex_format

ANDROID_LEVELS = {"V": "TRACE", "D": "DEBUG", "I": "INFO", "W": "WARN", "E": "ERROR", "F": "CRITICAL", "A": "CRITICAL"}
POSTGRES_LEVELS = {"LOG": "INFO", "DETAIL": "INFO", "HINT": "INFO", "STATEMENT": "INFO", "CONTEXT": "INFO",
                   "DEBUG1": "DEBUG", "DEBUG2": "DEBUG", "DEBUG3": "DEBUG", "DEBUG4": "DEBUG", "DEBUG5": "DEBUG"}  # fmt: skip
MYSQL_LEVELS = {"Note": "INFO", "System": "INFO"}
REDIS_LEVELS = {".": "DEBUG", "-": "INFO", "*": "NOTICE", "#": "WARN"}  # debug, verbose, notice, warning

EVERYDAY: list[LogFormat] = [
    regex_format(
        "android",
        r"^(?P<date>\d{2}-\d{2}) (?P<time>\d{2}:\d{2}:\d{2}\.\d{3})\s+(?P<pid>\d+)\s+(?P<tid>\d+) (?P<level>[VDIWEFA]) "
        r"(?P<component>[^:\s](?:[^:]*[^:\s])?)\s*: (?P<message>.*)$",  # (linear: no lazy run before \s*)
        "Android logcat (threadtime, the default)",
        ANDROID_LEVELS,
    ),
    regex_format(
        "android-time",
        r"^(?P<date>\d{2}-\d{2}) (?P<time>\d{2}:\d{2}:\d{2}\.\d{3}) (?P<level>[VDIWEFA])/(?P<component>[^(]*?)"
        r"\(\s*(?P<pid>\d+)\): (?P<message>.*)$",
        "Android logcat -v time",
        ANDROID_LEVELS,
    ),
    regex_format(
        "android-brief",
        r"^(?P<level>[VDIWEFA])/(?P<component>[^(]*?)\(\s*(?P<pid>\d+)\): (?P<message>.*)$",
        "Android logcat -v brief",
        ANDROID_LEVELS,
    ),
    regex_format(
        "windows-cbs",
        r"^(?P<ts>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}), (?P<level>Info|Warning|Error|Perf|Fatal)\s+"
        r"(?P<component>CBS|CSI|DPX|DISM|SQM|\w+)\s+(?P<message>.*)$",
        "Windows CBS / CSI servicing log (CBS.log)",
        {"Perf": "INFO"},
    ),
    regex_format(
        "healthapp",
        r"^(?P<ts>\d{8}-\d{1,2}:\d{1,2}:\d{1,2}:\d{1,3})\|(?P<component>[^|]+)\|(?P<pid>\d+)\|(?P<message>.*)$",
        "HealthApp (Loghub): time|component|pid|message",
    ),
    regex_format(
        "cri",
        r"^(?P<ts>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})) (?P<stream>stdout|stderr) "
        r"(?P<tag>[FP]) (?P<message>.*)$",
        "Kubernetes CRI container log (containerd, CRI-O)",
    ),
    regex_format(
        "postgresql",
        r"^(?P<ts>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)?(?: [A-Z]{2,5}| [+-]\d{2})?) \[(?P<pid>\d+)\]"
        r"(?:[^:]*?)? (?P<level>LOG|ERROR|WARNING|FATAL|PANIC|DETAIL|HINT|STATEMENT|CONTEXT|NOTICE|INFO|DEBUG\d?):"
        r"\s+(?P<message>.*)$",
        "PostgreSQL server log (default log_line_prefix)",
        POSTGRES_LEVELS,
    ),
    regex_format(
        "mysql",
        r"^(?P<ts>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})?) (?P<pid>\d+) "
        r"\[(?P<level>Note|Warning|ERROR|Error|System)\] (?:\[(?P<code>MY-\d+)\] )?(?:\[(?P<component>\w+)\] )?"
        r"(?P<message>.*)$",
        "MySQL / MariaDB error log",
        MYSQL_LEVELS,
    ),
    regex_format(
        "redis",
        # Redis 3+ writes `pid:role`, Redis 2 `[pid]`; the year came with Redis 3.2 (older lines have none).
        r"^(?:(?P<pid>\d+):(?P<role>[XCSM])|\[(?P<pid2>\d+)\]) (?P<ts>\d{1,2} [A-Z][a-z]{2}(?: \d{4})? \d{2}:\d{2}:\d{2}\.\d{3}) "
        r"(?P<level>[.\-*#]) (?P<message>.*)$",
        "Redis server log",
        REDIS_LEVELS,
    ),
    regex_format(
        "python-logging",
        r"^(?P<level>DEBUG|INFO|WARNING|ERROR|CRITICAL):(?P<component>[^:\s]*):(?P<message>.*)$",
        "Python logging, basicConfig's default (LEVEL:name:message)",
    ),
    regex_format(
        "python-logging-time",
        r"^(?P<ts>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:,\d{3})?) - (?P<component>\S+) - "
        r"(?P<level>DEBUG|INFO|WARNING|ERROR|CRITICAL) - (?P<message>.*)$",
        "Python logging, time - name - level - message",
    ),
    regex_format(
        "go-log",
        r"^(?P<ts>\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)?) (?!\[(?:debug|info|notice|warn|error|crit|alert|emerg)\] )"
        r"(?:(?P<component>[\w./-]+\.go:\d+): )?(?P<message>.*)$",  # (not nginx's error log, which has a [level])
        "Go's standard log package",
    ),
]
