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
_CRIT_WORDS = _START + r"(?:fatal|panic|critical|emergency|kernel panic|general protection fault)" + _END
# The kernel's BUG/Oops reports and syslog's upper-case severity words (`logrotate: ALERT exited abnormally`)
# count as written: `no ALERTs are active`, `bug fix` and `crit_level` do not.
_CRIT_CASED = r"\bBUG: |\bOops: |(?<![\w.-])(?:ALERT|EMERG|CRIT)(?![\w/=-])"
_CRIT = re.compile(_CRIT_WORDS + "|(?-i:" + _CRIT_CASED + ")", re.IGNORECASE)
_ERROR_WORDS = (
    _START + r"(?:error|errors|err|failed|failure|fail|fails|traceback|segfault|denied|refused|timed out|timeout"
    r"|out of memory|oom-killer|no space left|unreachable|corrupted|corruption|aborted|crashed"
    r"|(?:table|queue|buffer|pool|disk) (?:is )?full|dropping packets?|no buffer space|address already in use"
    # What software writes when it could not do something, or something stopped answering: these say as
    # much as `error` does (`Can't save in background`, `nfs: server … not responding`, `task … blocked
    # for more than 120 seconds`, `exited abnormally`, `Bad page state`, soft lockups and RCU stalls).
    r"|can'?t|can’t|cannot|can not|unable to|could not|couldn'?t|not responding|blocked for more than"
    r"|(?:got )?no(?:t)? (?:answer|response|reply) from"
    r"|abnormally|bad page|hung|lockup|stalls?|stalled|unrecoverable|remounting filesystem read-only)" + _END
)
# Exception classes (IOException, KeyError, OutOfMemoryError); not a CPU's `exception support`.
_EXCEPTION = r"exception\b(?!\s+(?:support|handling|vector|mask|table|enabled?|syndrome|register))"
_ERROR_CLASS = r"[A-Z]\w*Error"
_ERROR = re.compile(_ERROR_WORDS + r"|\w*" + _EXCEPTION + "|(?-i:" + _ERROR_CLASS + r")\b", re.IGNORECASE)
_WARN_WORDS = _START + r"(?:warn|warning|deprecated|retrying)" + _END
_WARN = re.compile(_WARN_WORDS, re.IGNORECASE)
# Substrings of every keyword: plain `in` tests on the lowered message reject the common case (no keyword)
# far faster than the case-insensitive regexes (or one regex of them all).
_STEMS = ("fatal", "panic", "critical", "emergency", "err", "fail", "exception", "traceback", "segfault", "denied",
          "refused", "timed out", "timeout", "warn", "deprecated", "retrying", "out of memory", "oom-killer",
          "no space", "unreachable", "corrupt", "abort", "crashed", " full", "dropping packet", "no buffer", "already in use",
          "can't", "can’t", "cannot", "can not", "unable", "could", "not respond", "blocked for", "abnormal", "bad page", "hung", "lockup", "stall",
          "unrecoverable", "read-only", "answer from", "response from", "reply from", "bug: ", "oops: ", "alert", "emerg", "crit", "protection fault")  # fmt: skip


# The fast path (`sniff_level` on a message of ASCII characters, where case-blind matching is plain ASCII case):
# each pattern is searched only where one of its stems is in the lowered message, and its case-blind parts are
# searched case-sensitively in that lowered text (several times faster). The stems of the three are _STEMS
# with `cant` (`can'?t`), which counts only beside one of those, as in `_sniff_plain`.
_CRIT_STEMS = ("fatal", "panic", "crit", "emerg", "protection fault", "bug: ", "oops: ", "alert")
_WARN_STEMS = ("warn", "deprecated", "retrying")
_ERROR_STEMS = tuple(s for s in _STEMS if s not in _CRIT_STEMS + _WARN_STEMS + ("critical", "emergency"))
# Stems of the error words (and `cant`): each match of _ERROR_WORDS holds one at most _LEAD characters after its
# start (`remounting filesystem read-only`), so the search starts _LEAD before the first one found.
_WORD_STEMS = tuple(s for s in _ERROR_STEMS if s != "exception") + ("cant",)
_LEAD = 22
_LOW = {name: re.compile(pattern) for name, pattern in (
    ("crit", _CRIT_WORDS), ("error", _ERROR_WORDS), ("exception", _EXCEPTION), ("warn", _WARN_WORDS))}  # fmt: skip
_CASED = {"crit": re.compile(_CRIT_CASED), "error": re.compile(_ERROR_CLASS + r"\b")}


def _any_in(lowered: str, stems: tuple[str, ...]) -> bool:
    for stem in stems:  # noqa: SIM110 - a loop, not any(<generator>): this runs once per line
        if stem in lowered:
            return True
    return False


def canonical_level(text: str | None) -> str | None:
    """A level field's text as one of LEVELS, or None when it is no known level."""
    if not text:
        return None
    return _ALIASES.get(text.strip().strip("[]:").upper())


def sniff_level(message: str) -> str | None:
    """The most severe level a message's words suggest; None if none does.

    The same as `_sniff_plain`, which reads a message that is not all ASCII; an ASCII one takes the fast path
    (see _CRIT_STEMS): the patterns cost tens of µs a line, the stems a few."""
    if not message.isascii():
        return _sniff_plain(message)
    lowered = message.lower()
    crit = _any_in(lowered, _CRIT_STEMS)
    if crit and (_LOW["crit"].search(lowered) or _CASED["crit"].search(message)):
        return "CRITICAL"
    error = _any_in(lowered, _ERROR_STEMS)
    warn = _any_in(lowered, _WARN_STEMS)
    if (error or ((crit or warn) and "cant" in lowered)) and _error_found(message, lowered):
        return "ERROR"
    return "WARN" if warn and _LOW["warn"].search(lowered) else None


def _error_found(message: str, lowered: str) -> bool:
    first = min((at for stem in _WORD_STEMS if (at := lowered.find(stem)) >= 0), default=-1)
    return (
        (first >= 0 and _LOW["error"].search(lowered, max(0, first - _LEAD)) is not None)
        # `\w*exception…` matches where `exception…` does (the \w* may match nothing)
        or ("exception" in lowered and _LOW["exception"].search(lowered) is not None)
        or ("Error" in message and _CASED["error"].search(message) is not None)
    )


def _sniff_plain(message: str) -> str | None:
    """sniff_level as written first: any stem, then each whole pattern in turn (the reference of the tests)."""
    if not _any_in(message.lower(), _STEMS):
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
