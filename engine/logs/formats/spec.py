"""A log format: a regex with named groups plus how to read its fields.

Group names the parser understands: `ts` (or `date` + `time`), `level`,
`component`, `pid`, `message`, `pri` (syslog priority) and `status` (HTTP).
Other groups are matched and ignored. A format without a `message` group
keeps the whole line as the message. An HTTP status of 400 or more is an error, as lnav reads it (a 404
in an access log is an error there); under 400 it is INFO.

A format may name a `header`: the start of a line its files always hold near the top (W3C's `#Fields:`,
Zeek's `#separator`); detection then considers it only for a sample that holds such a line, so lines that
look like other formats' (an ISO time, then words) are not taken without it. `more` names lines that
continue a record besides the usual ones (Laravel's `[stacktrace]` and `#0 /app/…` frames). `fitted`
gives the format as read for one file's sample (the columns its header names); most formats are as is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from engine.logs.formats.record import SYSLOG_SEVERITIES, Record, canonical_level

# A line that continues the record before it, in any line-per-record format: indented, a stack frame, …
# A year in a format's `date` field (Thunderbird's `2005.11.09` before its syslog `Nov 9 12:01:01`): written
# after a `ts` that has none, where the time forms read a year after the time (ctime's place), so it wins
YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
CONTINUATION = re.compile(
    r"^(?:\s|Caused by:|Traceback \(most recent call last\)|\.\.\. \d+ (?:more|common frames omitted)"
    r"|[\w.$]+(?:Exception|Error)(?::|$)|During handling of the above exception)"
)


@dataclass(frozen=True)
class LogFormat:
    name: str
    pattern: re.Pattern[str]  # or an engine.logs.userregex.UserRegex for user formats (same methods)
    description: str = ""
    levels: dict[str, str] = field(default_factory=dict)  # format-specific level words → canonical
    json: bool = False  # JSON lines: fields come from keys, not groups
    entries: bool = False  # a record is a block of lines (journald export): its lines count in detection
    header: str = ""  # a sample line must start with this for detection to consider the format ("": none)
    more: re.Pattern[str] | None = None  # lines that continue a record besides CONTINUATION's

    def continues(self, text: str) -> bool:
        """Whether a line this format does not parse belongs to the record before it."""
        return CONTINUATION.match(text) is not None or (self.more is not None and self.more.match(text) is not None)

    def fitted(self, sample: list[str]) -> LogFormat:
        """The format as read for the file `sample` opens (a header's columns); the format itself by default."""
        return self

    def entry_line(self, text: str) -> bool:
        """For a block format (`entries`): whether a line reads as one of its entries' lines, in detection."""
        return False

    def record_line(self, record: Record, first: str) -> str:
        """The record as one line of text (what the knowledge base's signatures read): its first line `first`."""
        return first

    def finish(self, record: Record, extra: list[str]) -> Record:
        """The record with the lines that continue it (`extra`) attached."""
        if not extra:
            return record
        return record._replace(message="\n".join([record.message, *extra]), end_line=record.end_line + len(extra))

    def parse(self, text: str, line: int) -> Record | None:
        """The record for one line, or None when the line does not match this format."""
        match = self.pattern.match(text)
        if match is None:
            return None
        return self.record(match.groupdict(), text, line)

    def record(self, groups: dict[str, str | None], text: str, line: int) -> Record:
        get = groups.get
        message = get("message")
        if message is None:
            message = text
        ts, date = get("ts"), get("date")
        if ts is None and date is not None:
            ts = f"{date} {get('time') or ''}".strip()
        elif ts is not None and date is not None and not YEAR.search(ts) and (year := YEAR.search(date)):
            ts = f"{ts} {year.group()}"
        raw_level = get("level")
        level = (self.levels.get(raw_level) or canonical_level(raw_level)) if raw_level else None
        if level is None:
            pri, status = get("pri"), get("status")
            if pri and pri.isdigit():  # a user format's group may catch anything: only digits are a priority
                level = SYSLOG_SEVERITIES[int(pri[:6]) % 8]
            elif status and status.isdigit():
                code = int(status[:6])
                level = "ERROR" if code >= 400 else "INFO"
        return Record(line, line, message, ts, level, get("component"), get("pid"))


def regex_format(
    name: str, regex: str, description: str = "", levels: dict[str, str] | None = None, *, more: str = ""
) -> LogFormat:
    try:
        pattern = re.compile(regex)
    except re.error as e:
        raise ValueError(f"format {name}: bad regex: {e}") from e
    return LogFormat(name, pattern, description, dict(levels or {}), more=re.compile(more) if more else None)
