"""The fallback format: one record per line, with the time and level found where logs usually write them.

A file no known format fits, and a line its format does not match, is read by `GENERIC`. Its record's
message is the whole line, as before; its `timestamp` is the first time in any form engine/logs/clock.py
reads within the line's first `HEAD` characters (ISO 8601 with `T` or a space, syslog, ctime, Apache's
`21/Nov/2026:10:00:12`, glog's `I0517 15:04:22.619632`, Laravel's `[2023-05-15 18:19:32]`, Unix time at
the start, …), as written, so that minute buckets (engine/logs/timestamps.py) and time jumps read it. Its
`level` is a level word right after that time (`…,672:DEBUG:`, ` [INFO] `, ` local.ERROR: `) or right
before it (`MainThread::INFO::2011-12-05 …`, `ERROR 2026-…`), a glog letter (`E0517 15:04:…`), or, in a
line without a time, an upper-case level word at its start (`WARNING: …`). A line with none of these
keeps no level, and `level_of` guesses one from its words, as for every format.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from engine.logs.clock import time_span
from engine.logs.formats.record import LEVEL_WORD, Record, canonical_level
from engine.logs.formats.spec import LogFormat

# After the time: closing bracket or fraction separators, then a level, maybe in brackets or after a
# channel (`local.ERROR`); the level is one word (not `errors`, `info-box`).
_AFTER = re.compile(r"[\])]?[\s:|,;-]*[\[(<]?(?:[a-z]\w*\.)?(" + LEVEL_WORD + r")(?![\w-])", re.IGNORECASE)
# Before the time: the level is the last word, followed only by separators (`INFO::`, `[WARN] `).
_BEFORE = re.compile(r"(?<![\w.-])(" + LEVEL_WORD + r")[\])>]?[\s:|,;-]*[\[(]?$", re.IGNORECASE)
_START = re.compile(r"\s*[\[(<]?(" + LEVEL_WORD + r")(?![\w-])")  # upper case only: `Error handling …` is prose
_GLOG = re.compile(r"([IWEF])\d{4}\s")
_GLOG_LEVELS = {"I": "INFO", "W": "WARN", "E": "ERROR", "F": "CRITICAL"}


def level_near(text: str, start: int, end: int) -> str | None:
    """The level written next to a time at text[start:end] (see the module note), or None."""
    if start == 1 and (g := _GLOG.match(text)) is not None:
        return _GLOG_LEVELS[g.group(1)]
    if (m := _AFTER.match(text, end)) is not None:
        return canonical_level(m.group(1))
    if start and (m := _BEFORE.search(text, max(0, start - 24), start)) is not None:
        return canonical_level(m.group(1))
    return None


@dataclass(frozen=True)
class GenericFormat(LogFormat):
    """One record per line (never None): time and level where found, the whole line as message."""

    # The form of the last time read, tried first on the next line (lines of a file write one form): a hint
    # for speed only, so sharing it between threads costs at most an extra try.
    last_form: list[int] = field(default_factory=lambda: [0], compare=False, repr=False)

    def parse(self, text: str, line: int) -> Record:
        span = time_span(text, self.last_form[0])
        if span is None:
            m = _START.match(text)
            return Record(line, line, text, None, canonical_level(m.group(1)) if m else None)
        start, end, self.last_form[0] = span
        return Record(line, line, text, text[start:end], level_near(text, start, end))


GENERIC = GenericFormat(
    "generic", re.compile(r"(?P<message>.*)"), "one record per line; time and level found where logs write them"
)
