"""The formats logpt knows out of the box, most specific first.

Detection scores every format on a sample and keeps the best; on a tie the
earlier (more specific) one wins, so Loghub's system formats come before the
general families (syslog, ISO-8601 application logs) they resemble.
"""

from __future__ import annotations

from engine.logs.formats.compose import COMPOSE
from engine.logs.formats.everyday import EVERYDAY
from engine.logs.formats.headed import W3C, ZEEK
from engine.logs.formats.programs import PROGRAMS
from engine.logs.formats.record import LEVEL_WORD
from engine.logs.formats.spec import LogFormat, regex_format
from engine.logs.formats.stamped import STAMPED
from engine.logs.formats.tcf import TCF

MONTH_TS = r"[A-Z][a-z]{2} +\d{1,2} \d{2}:\d{2}:\d{2}"
ISO_TS = r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?"
# A syslog tag: program (maybe with spaces or a parenthesised facility), optional [pid], then ": ".
TAG = r"(?P<component>[^:\[\s][^:\[]*?)(?:\[(?P<pid>\d+)\])?(?: \((?P<address>[^)]*)\))?: "

BUILTIN: list[LogFormat] = [
    # ---- Loghub systems (Zhu et al.): headers as in their structured CSVs ----
    regex_format(
        "hdfs",
        r"^(?P<date>\d{6}) (?P<time>\d{6}) (?P<pid>\d+) (?P<level>[A-Z]+) (?P<component>[^:\s]+): (?P<message>.*)$",
        "Hadoop HDFS",
    ),
    regex_format(
        "bgl",
        r"^(?P<label>\S+) (?P<epoch>\d{9,10}) (?P<date>\d{4}\.\d{2}\.\d{2}) (?P<node>\S+) (?P<ts>\d{4}-\d{2}-\d{2}-\d{2}\.\d{2}\.\d{2}\.\d+) (?P<node2>\S+) (?P<type>\S+) (?P<component>\S+) (?P<level>\S+) (?P<message>.*)$",
        "Blue Gene/L RAS",
    ),
    regex_format(
        "thunderbird",
        r"^(?P<label>\S+) (?P<epoch>\d{9,10}) (?P<date>\d{4}\.\d{2}\.\d{2}) (?P<user>\S+) (?P<ts>[A-Z][a-z]{2} +\d{1,2} \d{2}:\d{2}:\d{2}) (?P<location>\S+) (?:"
        + TAG
        + r")?(?P<message>.*)$",
        "Thunderbird supercomputer syslog",
    ),
    regex_format(
        "hpc",
        r"^(?P<logid>\d+) (?P<node>\S+) (?P<component>\S+) (?P<state>\S+) (?P<ts>\d{9,10}) (?P<flag>-?\d+) (?P<message>.*)$",
        "HPC cluster",
    ),
    regex_format(
        "zookeeper",
        r"^(?P<ts>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3}) - (?P<level>[A-Z]+) +\[(?P<thread>.*):(?P<component>[^:@\]]+)@(?P<lineno>\d+)\] - (?P<message>.*)$",
        "ZooKeeper (log4j)",
    ),
    regex_format(
        "openstack",
        r"^(?:(?P<file>\S+\.log\S*) )?(?P<ts>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d+) (?P<pid>\d+) (?P<level>[A-Z]+) (?P<component>\S+) \[(?P<context>[^\]]*)\] (?P<message>.*)$",
        "OpenStack (oslo.log)",
    ),
    regex_format(
        "spark",
        r"^(?P<date>\d{2}/\d{2}/\d{2}) (?P<time>\d{2}:\d{2}:\d{2}) (?P<level>[A-Z]+) (?P<component>[^:\s]+): (?P<message>.*)$",
        "Apache Spark (log4j)",
    ),
    regex_format(
        "proxifier", r"^\[(?P<ts>\d{2}\.\d{2} \d{2}:\d{2}:\d{2})\] (?P<component>.+?) - (?P<message>.*)$", "Proxifier"
    ),
    regex_format(
        "apache-error",
        r"^\[(?P<ts>[A-Z][a-z]{2} [A-Z][a-z]{2} +\d{1,2} \d{2}:\d{2}:\d{2}(?:\.\d+)? \d{4})\] \[(?:(?P<module>[\w-]+):)?(?P<level>\w+)\](?: \[pid (?P<pid>\d+)(?::tid \d+)?\])?(?: \[client (?P<client>[^\]]+)\])? (?P<message>.*)$",
        "Apache httpd error log",
    ),
    *EVERYDAY,  # Android, Windows CBS, HealthApp, CRI, PostgreSQL, MySQL, Redis, Python, Go
    *PROGRAMS,  # strace, Laravel, uWSGI, vdsm, MySQL's general query log
    COMPOSE,  # `web-1  | …`: the container's line read by JSON lines or the generic format
    W3C,  # only where the sample holds its header (#Fields:, #separator): its entries look like ISO lines
    ZEEK,
    *STAMPED,  # time:LEVEL:, multilog, Unix time, date(1), tcsh history, MySQL's slow log
    TCF,  # the Eclipse TCF agent's trace: minutes and seconds
    # ---- general families ----
    regex_format(
        "syslog-5424",
        r"^<(?P<pri>\d{1,3})>1 (?P<ts>\S+) (?P<host>\S+) (?P<component>\S+) (?P<pid>\S+) (?P<msgid>\S+) (?P<sd>-|(?:\[[^\]]*\])+) ?(?P<message>.*)$",
        "syslog RFC 5424",
    ),
    regex_format(
        "syslog",
        r"^(?:<(?P<pri>\d{1,3})>)?(?P<ts>" + MONTH_TS + r") (?P<host>\S+) " + TAG + r"(?P<message>.*)$",
        "syslog RFC 3164, journalctl short (also Linux, OpenSSH, Mac in Loghub)",
    ),
    regex_format(
        "journal-iso",
        r"^(?P<ts>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?) (?P<host>\S+) "
        + TAG
        + r"(?P<message>.*)$",
        "journalctl -o short-iso",
    ),
    regex_format(
        "klog",
        r"^(?P<level>[IWEF])(?P<date>\d{4}) (?P<time>\d{2}:\d{2}:\d{2}\.\d+) +(?P<pid>\d+) (?P<component>[^:\]\s]+:\d+)\] (?P<message>.*)$",
        "Kubernetes klog / glog",
        {"I": "INFO", "W": "WARN", "E": "ERROR", "F": "CRITICAL"},
    ),
    regex_format(
        "nginx-error",
        r"^(?P<ts>\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}) \[(?P<level>\w+)\] (?P<pid>\d+)#\d+: (?:\*\d+ )?(?P<message>.*)$",
        "nginx error log",
    ),
    regex_format(
        "access-log",
        r'^(?:(?P<vhost>[^\s:]+:\d+) )?(?P<client>\S+) \S+ (?P<user>\S+) \[(?P<ts>[^\]]+)\] '
        r'(?P<message>"[^"]*" (?P<status>\d{3}) .*)$',
        "Apache/nginx access log (common, combined, Apache's vhost_combined: %v:%p first)",
    ),
    regex_format(
        "log4j",
        r"^(?P<ts>"
        + ISO_TS
        + r") +(?:- +)?(?P<level>"
        + LEVEL_WORD
        + r")\s+(?:\[(?P<thread>[^\]]*)\]\s+)?(?P<component>[\w.$]+(?:\([^)]*\))?): (?P<message>.*)$",
        "ISO time, level, [thread], logger: message (log4j, logback, Hadoop)",
    ),
    regex_format(
        "iso-app",
        r"^\[?(?P<ts>" + ISO_TS + r")\]?\s+(?:\[?(?P<level>" + LEVEL_WORD + r")\]?[:\s]\s*)?(?P<message>.*)$",
        "ISO-8601-prefixed application log",
    ),
]


def builtin_formats() -> list[LogFormat]:
    return list(BUILTIN)
