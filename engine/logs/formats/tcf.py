"""The Eclipse TCF agent's trace: a format whose records write their time as minutes and seconds of an hour.

The Target Communication Framework agent (agent/tcf/framework/trace.c) starts each trace line with `TCF `,
the minutes and seconds of the wall clock with their milliseconds (`%02d:%02d.%03d`; loggers built on it
write microseconds), `: ` and the message: the channel's `Server-Properties: {…}`, `channel server
connecting`, and each message of the protocol as `<channel>: ---> C <token> <service> <command> <args>
<eom>` (sent) or `<--- R <token> <result> <eom>` (received). The hour and the day are not written:
engine/logs/fileclock.py takes them from the file's last write, counting back an hour where the minutes go
back (the way lnav reads these traces), and engine/logs/clock.py's `TimeReader` counts them on. What it
leaves out: the protocol's fields (token, service, command) as fields of their own.
"""

from __future__ import annotations

import re

from engine.logs.formats.spec import LogFormat


class MinutesFormat(LogFormat):
    """A format whose `timestamp` is minutes and seconds alone (`mm:ss.fff`): its files give the hour and day."""


TCF = MinutesFormat(
    "tcf",
    re.compile(r"^TCF (?P<ts>\d{2}:\d{2}\.\d{3,6}): (?P<message>.*)$"),
    "Eclipse TCF agent trace (minutes and seconds: the hour from the file)",
)
