"""A parsed log record: where it sits in the file and its header fields.

Fields a format cannot supply are None. `level` is canonical (see LEVELS);
`level_inferred` says it was guessed from the message's words rather than read
from a level field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LEVELS = ("TRACE", "DEBUG", "INFO", "NOTICE", "WARN", "ERROR", "CRITICAL")
LEVEL_RANK = {name: i for i, name in enumerate(LEVELS)}

_ALIASES = {
    "TRACE": "TRACE", "FINEST": "TRACE", "FINER": "TRACE",
    "DEBUG": "DEBUG", "DBG": "DEBUG", "FINE": "DEBUG", "D": "DEBUG", "V": "DEBUG",
    "INFO": "INFO", "INFORMATION": "INFO", "I": "INFO", "CONFIG": "INFO",
    "NOTICE": "NOTICE", "N": "NOTICE",
    "WARN": "WARN", "WARNING": "WARN", "W": "WARN",
    "ERROR": "ERROR", "ERR": "ERROR", "E": "ERROR", "FAILURE": "ERROR", "SEVERE": "ERROR",
    "CRITICAL": "CRITICAL", "CRIT": "CRITICAL", "FATAL": "CRITICAL", "F": "CRITICAL", "ALERT": "CRITICAL",
    "EMERG": "CRITICAL", "EMERGENCY": "CRITICAL", "PANIC": "CRITICAL",
}  # fmt: skip
# Syslog severities 0..7 (RFC 5424 §6.2.1).
SYSLOG_SEVERITIES = ("CRITICAL", "CRITICAL", "CRITICAL", "ERROR", "WARN", "NOTICE", "INFO", "DEBUG")

_SNIFF = re.compile(
    r"\b(?P<crit>fatal|panic|critical|emergency)\b"
    r"|\b(?P<error>error|errors|err|failed|failure|fail|exception|traceback|segfault|denied|refused|timed out|timeout)\b"
    r"|\b(?P<warn>warn|warning|deprecated|retrying)\b",
    re.IGNORECASE,
)


def canonical_level(text: str | None) -> str | None:
    """A level field's text as one of LEVELS, or None when it is no known level."""
    if not text:
        return None
    return _ALIASES.get(text.strip().strip("[]:").upper())


def sniff_level(message: str) -> str | None:
    """The most severe level a message's words suggest; None if none does."""
    best = None
    for match in _SNIFF.finditer(message):
        level = {"crit": "CRITICAL", "error": "ERROR", "warn": "WARN"}[match.lastgroup or "warn"]
        if level == "CRITICAL":
            return level
        if best is None or LEVEL_RANK[level] > LEVEL_RANK[best]:
            best = level
    return best


@dataclass(frozen=True, slots=True)
class Record:
    line: int  # 1-based number of the record's first line
    end_line: int  # last line, > line when continuation lines were attached
    message: str  # the text after the header; continuation lines joined with "\n"
    timestamp: str | None = None  # as written in the log
    level: str | None = None  # one of LEVELS
    component: str | None = None  # program, logger or class
    pid: str | None = None  # process (or thread) id as written
    level_inferred: bool = False
