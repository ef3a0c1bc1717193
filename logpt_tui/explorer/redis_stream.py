"""`logpt-tui redis://host:6379/logs`: a Redis stream followed like a file.

The stream's entries are written, oldest first, into a spool file that the explorer then follows like any
log (tail, search, filters, templates, flags, analysis): each entry's `text` field (what `logpt ship`
sends; a record of several lines stays several lines; a flag from `logpt serve` shows its why after the
line), or, for entries without one, their fields as `key=value` pairs. A thread reads the history in pages and then waits for new entries (XREAD, BLOCK);
a lost connection, or a key that is briefly not a stream, is retried with backoff from the last entry
written, so nothing is shown twice or skipped and following goes on. The spool is capped like piped input's (the oldest part is dropped past the cap).

Each spool line remembers where it came from (`StreamOrigins`, kept in `ORIGINS` by spool path): the source
file and line that `logpt ship` (and a flag of `logpt serve`) wrote in the entry, so the view numbers a row
`app.log 1242`, not by its place in the stream.

An incident of `logpt serve` (`{logs}:incidents`: engine.stream.incidents) shows as a few rows, each numbered
by the source line it points at: its span, flags and root cause; the onset; the analyst's evidence lines;
the first flagged lines with their why; and the file and lines to open (`logpt-tui FILE`, then `:LINE`).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
import time
from array import array
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from engine.errors import LogptError
from engine.stream import backoff, connect
from logpt_tui.explorer.follow import CLEANUPS
from logpt_tui.explorer.settings import SPOOL_CAP_BYTES, STREAM_BLOCK_MS, STREAM_PAGE

SHIPPED = ("source", "offset", "line", "lines")  # fields of `logpt ship` entries besides the text


NO_SOURCE = 0xFFFF  # a spool line whose entry named no source file and line


class StreamOrigins:
    """The source file and line of each spool line, appended by the spool's thread before the line is
    written (so a line the view can read has its origin) and read by the view; reset with the spool."""

    def __init__(self) -> None:
        self.names: list[str] = []  # source files, in the order first seen
        self._ids: dict[str, int] = {}
        self._sources = array("H")  # per spool line: index into names, or NO_SOURCE
        self._lines = array("Q")  # per spool line: its 1-based line in that source
        self.max_line = 0

    def add(self, fields: dict[bytes, bytes], shown_lines: int) -> None:
        """The origins of one entry's `shown_lines` spool lines (a record of several lines: line, line + 1, …)."""
        source, line = fields.get(b"source"), fields.get(b"line", b"")
        if source is None or not line.isdigit() or len(self.names) >= NO_SOURCE:
            self._sources.extend([NO_SOURCE] * shown_lines)
            self._lines.extend([0] * shown_lines)
            return
        name = source.decode("utf-8", "replace")
        k = self._ids.setdefault(name, len(self.names))
        if k == len(self.names):
            self.names.append(name)
        first = int(line)
        self._sources.extend([k] * shown_lines)
        self._lines.extend(range(first, first + shown_lines))
        self.max_line = max(self.max_line, first + shown_lines - 1)

    def add_lines(self, source: str, lines: list[int]) -> None:
        """The origins of spool lines that each point at their own line of `source` (an incident's rows)."""
        k = self._ids.setdefault(source, len(self.names))
        if k == len(self.names):
            self.names.append(source)
        self._sources.extend([k] * len(lines))
        self._lines.extend(lines)
        self.max_line = max(self.max_line, *lines)

    def reset(self) -> None:
        self._sources, self._lines = array("H"), array("Q")

    def of(self, index: int) -> tuple[str, int] | None:
        """(source file, 1-based line) of spool line `index` (0-based), or None when its entry named none."""
        try:
            k, line = self._sources[index], self._lines[index]
        except IndexError:
            return None
        return None if k == NO_SOURCE else (self.names[k], line)


ORIGINS: dict[Path, StreamOrigins] = {}  # spool path → the origins of its lines (read by the tab's view)


def is_stream_url(arg: str) -> bool:
    return arg.startswith(("redis://", "rediss://"))


def parse_stream_url(url: str) -> tuple[str, str]:
    """(the server's URL with its db, the stream's name) of `redis://host:port/STREAM[?db=N]`."""
    parts = urlparse(url)
    stream = parts.path.lstrip("/")
    if not stream or not parts.hostname:
        raise LogptError(f"no stream in {url!r}", "write redis://HOST:PORT/STREAM, e.g. redis://127.0.0.1:6379/logs")
    db = parse_qs(parts.query).get("db", ["0"])[0]
    netloc = parts.netloc
    return f"{parts.scheme}://{netloc}/{db}", stream


SHOWN_FLAGS = 5  # an incident's flagged lines shown as rows
EVIDENCE_LINE = re.compile(r"(?:flagged )?line (\d+): ?(.*)")


def incident_rows(fields: dict[str, str]) -> list[tuple[str, int]]:
    """An incident of `logpt serve` as readable rows, each with the line of its source it points at."""
    source, first = fields.get("source", "-"), int(fields.get("first_line", "0") or 0)
    name = Path(source).name or source
    cause = fields.get("category", "unknown") + (f": {fields['signature']}" if fields.get("signature") else "")
    rows = [(f"incident: {cause} · {name} lines {first}-{fields.get('last_line', first)} · "
             f"{fields.get('flags', '?')} flagged ({fields.get('why', '')})", first)]  # fmt: skip
    onset = json.loads(fields.get("onset") or "null")
    if onset:
        rows.append((f"  onset ({onset[1]}): {onset[2]}", int(onset[0])))
    for item in json.loads(fields.get("evidence") or "[]"):
        m = EVIDENCE_LINE.match(item)
        if m is None:
            rows.append((f"  evidence: {item}", first))
        elif not item.startswith("flagged"):  # the flagged lines come next, with their why
            rows.append((f"  evidence: {m.group(2).strip('`')}", int(m.group(1))))
    flagged = json.loads(fields.get("flagged") or "[]")
    rows += [(f"  flagged: {why}", int(line)) for line, why in flagged[:SHOWN_FLAGS]]
    if len(flagged) > SHOWN_FLAGS:
        rows.append((f"  … {int(fields.get('flags', len(flagged))) - SHOWN_FLAGS} more flagged", first))
    rows.append((f"  o: its lines here; or logpt-tui {source}, then :{first} (analysed lines {fields.get('lines', '?')})",
                 first))  # fmt: skip
    return [(text.replace("\n", " "), line) for text, line in rows]  # one spool line each


def entry_text(fields: dict[bytes, bytes]) -> str:
    """What an entry shows: its `text`, an incident as rows (`incident_rows`), else its fields as `key=value`
    (values with spaces quoted)."""
    decoded = {k.decode("utf-8", "replace"): v.decode("utf-8", "replace") for k, v in fields.items()}
    if "incident" in decoded and "source" in decoded:
        return "\n".join(text for text, _line in incident_rows(decoded))
    if "text" in decoded and "why" in decoded:  # a flag from `logpt serve`: the line, then why, on its first line
        first, newline, rest = decoded["text"].partition("\n")
        return f"{first}  ⟵ flagged: {decoded['why']} (score {decoded.get('score', '?')}){newline}{rest}"
    if "text" in decoded:
        return decoded["text"]
    return " ".join(f'{k}="{v}"' if " " in v else f"{k}={v}" for k, v in decoded.items())


def copy_stream(client: object, stream: str, target: Path, stop: threading.Event, cap: int = SPOOL_CAP_BYTES,
                origins: StreamOrigins | None = None) -> None:  # fmt: skip
    """Write the stream's entries to `target` until `stop` is set (the thread of `spool_stream`): XREAD from
    the last entry written returns the history in pages at once, then waits up to STREAM_BLOCK_MS for new ones."""
    import redis  # noqa: PLC0415

    last, attempt = "0-0", 0
    with target.open("ab") as out:
        while not stop.is_set():
            try:
                reply = client.xread({stream: last}, count=STREAM_PAGE, block=STREAM_BLOCK_MS)  # type: ignore[attr-defined]
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, redis.exceptions.ResponseError,
                    redis.exceptions.RedisClusterException):  # fmt: skip
                # Redis (or a cluster's nodes) away, or the key briefly something else than a stream (WRONGTYPE): wait and read on from
                # `last` (no gap, no repeat); the thread never ends while the explorer follows the stream
                time.sleep(backoff(attempt))
                attempt += 1
                continue
            attempt, entries = 0, reply[0][1] if reply else []
            if not entries:
                continue
            last = entries[-1][0].decode()
            texts = [entry_text(fields) for _id, fields in entries]
            data = "".join(text + "\n" for text in texts).encode("utf-8", "replace")
            if out.tell() + len(data) > cap:  # like a piped stdin: the newest part is kept
                out.truncate(0)
                out.seek(0)
                if origins is not None:
                    origins.reset()
            if origins is not None:
                for (_id, fields), text in zip(entries, texts, strict=True):
                    add_origins(origins, fields, text.count("\n") + 1)
            out.write(data)
            out.flush()


def add_origins(origins: StreamOrigins, fields: dict[bytes, bytes], shown_lines: int) -> None:
    """The origins of one entry's spool lines: an incident's rows each their own line, else `StreamOrigins.add`."""
    if b"incident" in fields and b"source" in fields:
        decoded = {k.decode("utf-8", "replace"): v.decode("utf-8", "replace") for k, v in fields.items()}
        origins.add_lines(decoded["source"], [line for _text, line in incident_rows(decoded)])
    else:
        origins.add(fields, shown_lines)


def spool_stream(url: str) -> tuple[Path, str]:
    """Start following the stream at `url` into a spool file; (its path, a name for the tab)."""
    server, stream = parse_stream_url(url)
    client = connect(server, needed_by="following a Redis stream")  # a cluster's node: a cluster client
    import redis  # noqa: PLC0415 - connect said so, in one line, when it is missing

    try:
        kind = client.type(stream).decode()  # type: ignore[attr-defined]
    except redis.exceptions.RedisError as e:
        raise LogptError(f"Redis at {server} does not answer: {e}", "start redis-server, or check the URL") from None
    if kind not in ("stream", "none"):
        raise LogptError(f"{stream!r} at {server} is a {kind}, not a stream", "name a stream, e.g. …/logs")
    handle, name = tempfile.mkstemp(prefix="logpt-stream-", suffix=".log")
    os.close(handle)
    path, stop = Path(name), threading.Event()
    ORIGINS[path] = origins = StreamOrigins()
    threading.Thread(target=copy_stream, args=(client, stream, path, stop), kwargs={"origins": origins},
                     name="stream-spool", daemon=True).start()  # fmt: skip
    CLEANUPS.append(stop.set)
    CLEANUPS.append(lambda: path.unlink(missing_ok=True))
    CLEANUPS.append(lambda: ORIGINS.pop(path, None))
    return path, f"{stream} @ {urlparse(server).netloc}"
