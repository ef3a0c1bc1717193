"""A parsed log record: where it sits in the file and its header fields.

Fields a format cannot supply are None. `level` is canonical (see LEVELS) and
comes from the line's level field; where a format has none, `level_of` guesses
one from the message's words when asked (lazily: parsing a million lines
should not pay for guesses nobody looks at).
"""

from __future__ import annotations

import re
from typing import NamedTuple

LEVELS = ("TRACE", "DEBUG", "INFO", "NOTICE", "WARN", "ERROR", "CRITICAL")
LEVEL_RANK = {name: i for i, name in enumerate(LEVELS)}
# A level word as logs write it in a header (a regex alternation, upper case; formats add their own flags)
LEVEL_WORD = r"TRACE|DEBUG|INFO|NOTICE|WARN(?:ING)?|ERROR|ERR|CRIT(?:ICAL)?|FATAL|SEVERE|ALERT|EMERG"

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

# A severity word counts as a word of the message, not as part of an identifier, a package or a path
# (`libgpg-error-dev`, `on_error_fn`, `/var/log/errors/`, `error.log`); `status=2/FAILURE` counts.
_START = r"(?<![\w.-])"
_END = r"(?![\w/=-]|\.\w)"  # nor a setting (`timeout=30`)
_CRIT = re.compile(
    _START + r"(?:fatal|panic|critical|emergency|kernel panic|general protection fault)" + _END
    # The kernel's BUG/Oops reports and syslog's upper-case severity words (`logrotate: ALERT exited abnormally`)
    # count as written: `no ALERTs are active`, `bug fix` and `crit_level` do not.
    + r"|(?-i:\bBUG: |\bOops: |(?<![\w.-])(?:ALERT|EMERG|CRIT)(?![\w/=-]))",
    re.IGNORECASE,
)
_ERROR = re.compile(
    _START + r"(?:error|errors|err|failed|failure|fail|fails|traceback|segfault|denied|refused|timed out|timeout"
    r"|out of memory|oom-killer|no space left|unreachable|corrupted|corruption|aborted|crashed"
    r"|(?:table|queue|buffer|pool|disk) (?:is )?full|dropping packets?|no buffer space|address already in use"
    # What software writes when it could not do something, or something stopped answering: these say as
    # much as `error` does (`Can't save in background`, `nfs: server … not responding`, `task … blocked
    # for more than 120 seconds`, `exited abnormally`, `Bad page state`, soft lockups and RCU stalls).
    r"|can'?t|can’t|cannot|can not|unable to|could not|couldn'?t|not responding|blocked for more than"
    r"|(?:got )?no(?:t)? (?:answer|response|reply) from"
    r"|abnormally|bad page|hung|lockup|stalls?|stalled|unrecoverable|remounting filesystem read-only)"
    + _END
    # Exception classes (IOException, KeyError, OutOfMemoryError); not a CPU's `exception support`.
    + r"|\w*exception\b(?!\s+(?:support|handling|vector|mask|table|enabled?|syndrome|register))|(?-i:[A-Z]\w*Error)\b",
    re.IGNORECASE,
)
_WARN = re.compile(_START + r"(?:warn|warning|deprecated|retrying)" + _END, re.IGNORECASE)
# Substrings of every keyword: plain `in` tests on the lowered message reject the common case (no keyword)
# far faster than the case-insensitive regexes (or one regex of them all).
_STEMS = ("fatal", "panic", "critical", "emergency", "err", "fail", "exception", "traceback", "segfault", "denied",
          "refused", "timed out", "timeout", "warn", "deprecated", "retrying", "out of memory", "oom-killer",
          "no space", "unreachable", "corrupt", "abort", "crashed", " full", "dropping packet", "no buffer", "already in use",
          "can't", "can’t", "cannot", "can not", "unable", "could", "not respond", "blocked for", "abnormal", "bad page", "hung", "lockup", "stall",
          "unrecoverable", "read-only", "answer from", "response from", "reply from", "bug: ", "oops: ", "alert", "emerg", "crit", "protection fault")  # fmt: skip


def _has_stem(message: str) -> bool:
    lowered = message.lower()
    for stem in _STEMS:  # noqa: SIM110 - a loop, not any(<generator>): this runs once per line
        if stem in lowered:
            return True
    return False


def canonical_level(text: str | None) -> str | None:
    """A level field's text as one of LEVELS, or None when it is no known level."""
    if not text:
        return None
    return _ALIASES.get(text.strip().strip("[]:").upper())


def sniff_level(message: str) -> str | None:
    """The most severe level a message's words suggest; None if none does."""
    if not _has_stem(message):
        return None
    if _CRIT.search(message):
        return "CRITICAL"
    if _ERROR.search(message):
        return "ERROR"
    return "WARN" if _WARN.search(message) else None


class Record(NamedTuple):
    """Immutable like a frozen dataclass, but built several times faster: one per log line."""

    line: int  # 1-based number of the record's first line
    end_line: int  # last line, > line when continuation lines were attached
    message: str  # the text after the header; continuation lines joined with "\n"
    timestamp: str | None = None  # as written in the log
    level: str | None = None  # one of LEVELS, from the level field (syslog priority, HTTP status…)
    component: str | None = None  # program, logger or class
    pid: str | None = None  # process (or thread) id as written


def level_of(record: Record) -> tuple[str | None, bool]:
    """(level, guessed): the declared level, or one guessed from the message's words."""
    if record.level is not None:
        return record.level, False
    guess = sniff_level(record.message)
    return guess, guess is not None
