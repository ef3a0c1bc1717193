"""`logpt ship`: follow log files and publish their records to a Redis stream, exactly once.

Each file is read through a `LogSource` (appends, truncation, rotation and re-creation, as the explorer
follows it). Lines are grouped into records the way parsing groups them: a continuation line (indented, a
stack frame, `Caused by:`, …) joins the record before it, so a stack trace is one entry. A record is sent
when the next record begins, or when the file has been quiet for `flush_s` (the last record of a burst).

One entry per record, `XADD stream MAXLEN ~ N * source <path> offset <byte> line <n> lines <k> text <record>`.
The read position of each file (inode, byte offset and line number after the last record sent) lives in
Redis next to the stream, in a hash per file, and is written in the same MULTI/EXEC transaction as the
entries it covers: both apply or neither does, so a shipper killed at any point and started again neither
loses nor repeats a record. A file replaced while no shipper ran (another inode at the path) is read from
its start; what the old file got after the last position is not recovered (it is no longer at the path).

One shipper per file and stream: a lease in Redis (`SET … NX PX`, renewed while shipping, dropped at exit)
refuses a second `logpt ship` of the same file to the same stream, which would send its lines twice. A key of
the wrong type where the stream or a position should be, or a position hash that does not parse, is a
one-line error, never a traceback.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from engine.errors import InputError
from engine.logs.formats.detect import CONTINUATION, MAX_CONTINUATION_LINES
from engine.logs.logsource import LogSource
from engine.stream import MAX_RECORD_BYTES, backoff, check_slot, cut_record, migrate, tagged, wrong_type

BATCH = 500  # records per transaction


@dataclass
class Position:
    inode: int = -1
    offset: int = 0  # byte offset after the last record sent
    line: int = 0  # lines sent (the next record's first line is line + 1)


LEASE_MS = 30_000  # a shipper that dies holds its files this long at most


def position_key(stream: str, path: Path) -> str:
    return f"{tagged(stream)}:ship:{path.resolve()}"


def _dead_here(holder: bytes) -> bool:
    """Whether a lease holder (`host-pid-…`) was a process of this machine that no longer runs (killed: its
    lease would otherwise keep the file for LEASE_MS)."""
    host, _, rest = holder.decode("utf-8", "replace").rpartition("-")[0].rpartition("-")
    if host != socket.gethostname() or not rest.isdigit():
        return False
    try:
        os.kill(int(rest), 0)
    except ProcessLookupError:
        return True
    except OSError:  # it runs, as another user
        return False
    return False


class FileShipper:
    """One followed file: its source, its position in Redis, and the record being gathered."""

    def __init__(self, client: object, stream: str, path: Path, maxlen: int | None) -> None:
        self.client, self.stream, self.path, self.maxlen = client, stream, Path(path), maxlen
        self.key = position_key(stream, self.path)
        migrate(client, f"{stream}:ship:{self.path.resolve()}", self.key)  # an earlier version's `STREAM:ship:PATH`
        self.lease = f"{tagged(stream)}:ship-lease:{self.path.resolve()}"
        self.token = f"{socket.gethostname()}-{os.getpid()}-{id(self)}"
        self.renew()
        try:
            self.source = LogSource(self.path)
            self.source.index()
            self.position = self.load_position()
        except BaseException:  # not shipping this file after all: its lease goes too
            with contextlib.suppress(RedisConnectionError, RedisTimeoutError):
                self.release()
            raise
        self.next_line = self.position.line  # 0-based: the first line not yet taken into a record
        self.quiet_since = time.monotonic()

    def renew(self) -> None:
        """Take or renew this file's lease; InputError when another shipper holds it."""
        self.renewed = time.monotonic()
        if self.client.set(self.lease, self.token, nx=True, px=LEASE_MS):  # type: ignore[attr-defined]
            return
        holder = self.client.get(self.lease)  # type: ignore[attr-defined]
        if holder is not None and holder != self.token.encode() and not _dead_here(holder):
            raise InputError(f"another logpt ship is shipping {self.path} to {self.stream!r} "
                             f"({holder.decode('utf-8', 'replace')})", "stop it first; two would send every line "
                             "twice")  # fmt: skip
        self.client.set(self.lease, self.token, px=LEASE_MS)  # type: ignore[attr-defined] - ours: renewed

    def release(self) -> None:
        if self.client.get(self.lease) == self.token.encode():  # type: ignore[attr-defined]
            self.client.delete(self.lease)  # type: ignore[attr-defined]

    def load_position(self) -> Position:
        try:
            saved = self.client.hgetall(self.key)  # type: ignore[attr-defined]
        except ResponseError as e:
            raise wrong_type(e, self.key) or e from None
        inode = self.source.inode
        try:
            if not saved or int(saved.get(b"inode", -1)) != inode:
                return Position(inode, 0, 0)  # a new file at the path: from its start
            offset, line = int(saved[b"offset"]), int(saved[b"line"])
        except (KeyError, ValueError):
            raise InputError(f"the position {self.key!r} in Redis is corrupt ({saved!r:.120})",
                             "delete it to ship the file from its start again") from None  # fmt: skip
        if offset < 0 or line < 0:
            raise InputError(f"the position {self.key!r} in Redis is corrupt (offset {offset}, line {line})",
                             "delete it to ship the file from its start again")  # fmt: skip
        if line > len(self.source) or (line and not _ends_line(self.source.line_span(line - 1), offset)):
            return Position(inode, 0, 0)  # truncated since, below what was sent: from the start again
        return Position(inode, offset, line)

    def restart(self) -> None:
        """The file was truncated or replaced: its new content is read from the start."""
        self.position = Position(self.source.inode, 0, 0)
        self.next_line = 0

    def records(self, final: bool, whole: bool = False) -> list[tuple[int, int, str]]:
        """(first line 0-based, line count, text) of the complete records after the position. With `final`
        (the file went quiet), the last record is complete too; with `whole` (`--once`: the file as it is), so is
        a last line that no newline ends yet."""
        stop = len(self.source) if whole else self.source.complete_lines
        if stop <= self.next_line:
            return []
        lines = self.source.block(self.next_line, stop)
        out: list[tuple[int, int, str]] = []
        start = 0
        for i in range(1, len(lines) + 1):
            ends = i == len(lines) or not CONTINUATION.match(lines[i]) or i - start > MAX_CONTINUATION_LINES
            if not ends:
                continue
            if i == len(lines) and not final:
                break  # the last record may still grow
            text = "\n".join(lines[start:i])
            out.append((self.next_line + start, i - start, cut_record(text)))
            start = i
        return out

    def ship(self, final: bool, whole: bool = False) -> int:
        """Send the complete records in transactions of BATCH with the position; returns the records sent."""
        sent = 0
        records = self.records(final, whole)
        for k in range(0, len(records), BATCH):
            part = records[k : k + BATCH]
            first, count, _ = part[-1]
            stop_line = first + count
            offset = self.source.line_span(stop_line - 1)[1] + 1
            pipe = self.client.pipeline(transaction=True)  # type: ignore[attr-defined]
            for line, n, text in part:
                fields = {"source": str(self.path), "offset": self.source.line_span(line)[0], "line": line + 1,
                          "lines": n, "text": text}  # fmt: skip
                pipe.xadd(self.stream, fields, maxlen=self.maxlen, approximate=True)
            pipe.hset(self.key, mapping={"inode": self.position.inode, "offset": offset, "line": stop_line})
            try:
                pipe.execute()
            except ResponseError as e:  # the transaction applied nothing
                raise wrong_type(e, f"{self.stream} or {self.key}") or e from None
            self.position = Position(self.position.inode, offset, stop_line)
            self.next_line = stop_line
            sent += len(part)
        return sent


def ship_files(
    client: object,
    paths: Sequence[Path],
    *,
    stream: str = "logs",
    maxlen: int | None = None,
    flush_s: float = 0.5,
    poll_s: float = 0.1,
    stop: Callable[[], bool] = lambda: False,
    once: bool = False,
    on_sent: Callable[[int], None] = lambda _n: None,
) -> int:
    """Follow `paths` and ship their records until `stop()` (or, with `once`, until all is sent); returns the
    records sent."""
    check_slot(client, stream)
    files: list[FileShipper] = []
    try:
        for p in paths:
            files.append(reconnecting(lambda p=p: FileShipper(client, stream, p, maxlen), stop))  # type: ignore[arg-type]
        return _follow(files, flush_s, poll_s, stop, once, on_sent)
    finally:
        for f in files:  # the leases: another shipper may take these files at once
            with contextlib.suppress(RedisConnectionError, RedisTimeoutError):
                f.release()


def _follow(files: list[FileShipper], flush_s: float, poll_s: float, stop: Callable[[], bool], once: bool,
            on_sent: Callable[[int], None]) -> int:  # fmt: skip
    total = 0
    while True:
        grew = False
        for f in files:
            if time.monotonic() - f.renewed > LEASE_MS / 3000:
                reconnecting(f.renew, stop, f)
            change = f.source.refresh()
            if change.kind in ("truncated", "rotated"):
                f.restart()
            if change.kind != "none":
                f.quiet_since, grew = time.monotonic(), True
            quiet = once or time.monotonic() - f.quiet_since >= flush_s
            sent = reconnecting(lambda f=f, quiet=quiet: f.ship(final=quiet, whole=once), stop, f)
            if sent:
                total += sent
                on_sent(sent)
        if once and not grew:
            return total
        if stop():
            for f in files:  # what is complete goes out before leaving
                total += f.ship(final=True)
            return total
        time.sleep(poll_s)


def _ends_line(span: tuple[int, int], offset: int) -> bool:
    """Whether a saved offset ends the line of `span`: just past its newline, or inside it where `--once` sent
    the line before its newline came (the line has grown since; its rest is not sent again)."""
    start, end = span
    return start < offset <= end + 1


def reconnecting(call: Callable[[], object], stop: Callable[[], bool], file: FileShipper | None = None) -> object:
    """`call()`, retried with backoff while Redis is unreachable. A transaction cut off by a lost connection
    may or may not have been applied: before the retry the file's position is read back from Redis (it was
    written in the same transaction as the entries), so nothing is sent twice or skipped."""
    attempt = 0
    while True:
        try:
            return call()
        except (RedisConnectionError, RedisTimeoutError):
            while True:  # until Redis answers again and the file's position is known
                if stop():
                    raise
                time.sleep(backoff(attempt))
                attempt += 1
                if file is None:
                    break
                try:
                    file.position = file.load_position()
                except (RedisConnectionError, RedisTimeoutError):
                    continue
                file.next_line = file.position.line
                break


def bounded_lines(stream: TextIO, cap: int = MAX_RECORD_BYTES) -> Iterator[str]:
    """The lines of a text stream, each cut at `cap` characters: a pipe that never writes a newline (`yes | tr -d
    '\\n'`) yields pieces of at most `cap`, never one line that fills the memory."""
    while True:
        line = stream.readline(cap)
        if not line:
            return
        if not line.endswith("\n") and len(line) == cap:  # cut: the rest of this line is dropped, a piece at a time
            while (rest := stream.readline(cap)) and not rest.endswith("\n"):
                pass
            line += "\n"
        yield line


def ship_lines(client: object, lines: Iterable[str], *, stream: str = "logs", source: str = "stdin",
               maxlen: int | None = None, on_sent: Callable[[int], None] = lambda _n: None) -> int:  # fmt: skip
    """Ship records read from `lines` (a pipe: there is no position to keep, so a restart cannot resume it);
    a record is sent when the next one begins, at most BATCH at a time; the last when the input ends."""
    pending: list[str] = []
    batch: list[tuple[int, str]] = []
    first, sent = 1, 0

    def flush() -> None:
        nonlocal sent
        if batch:
            pipe = client.pipeline(transaction=True)  # type: ignore[attr-defined]
            for line, text in batch:
                fields = {"source": source, "offset": -1, "line": line, "lines": text.count("\n") + 1, "text": text}
                pipe.xadd(stream, fields, maxlen=maxlen, approximate=True)
            reconnecting(pipe.execute, lambda: False)
            sent += len(batch)
            on_sent(len(batch))
            batch.clear()

    for number, raw in enumerate(lines, 1):
        text = raw.rstrip("\n").removesuffix("\r")
        if pending and (not CONTINUATION.match(text) or len(pending) > MAX_CONTINUATION_LINES):
            batch.append((first, cut_record("\n".join(pending))))
            pending, first = [], number
            if len(batch) >= BATCH:
                flush()
        pending.append(text)
    if pending:
        batch.append((first, cut_record("\n".join(pending))))
    flush()
    return sent
