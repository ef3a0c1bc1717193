"""docker compose's merged output: `web-1  | <the container's line>` (`docker compose logs`, `up`).

Compose puts each container's name (`web-1`; Compose v1 wrote `web_1`; a `container_name` as set) before
its lines, padded to the longest, then `| `; on a terminal it colours the prefix with ANSI escapes, kept
when the output is saved. The name is the record's component; the container's own line after the prefix is
read as JSON lines when it is an object (Caddy, pino, …) and otherwise as the generic format reads any line
(a time anywhere near its start, a level beside it; `--timestamps` puts an ISO time first), escapes taken
out. Lines the container wrote over several (a traceback) stay one record each: each has its own prefix.
"""

from __future__ import annotations

import re

from engine.logs.formats.generic import GENERIC
from engine.logs.formats.jsonlines import JSON_LINES
from engine.logs.formats.record import Record
from engine.logs.formats.spec import LogFormat

_ESC = r"(?:\x1b\[[\d;?]*[A-Za-z])*"
_ANSI = re.compile(r"\x1b\[[\d;?]*[A-Za-z]")


class ComposeFormat(LogFormat):
    """A container's name, then its line read by JSON lines or the generic format."""

    def parse(self, text: str, line: int) -> Record | None:
        match = self.pattern.match(text)
        if match is None:
            return None
        inner = match.group("message")
        if "\x1b" in inner:
            inner = _ANSI.sub("", inner)
        record = JSON_LINES.parse(inner, line) if inner.startswith("{") else None
        if record is None:
            record = GENERIC.parse(inner, line)
        return record._replace(component=match.group("component"))


COMPOSE = ComposeFormat(
    "docker-compose",
    re.compile(r"^" + _ESC + r"(?P<component>[\w.-]+)" + _ESC + r" +" + _ESC + r"\|" + _ESC + r" ?(?P<message>.*)$"),
    "docker compose logs: name  | the container's line",
)
