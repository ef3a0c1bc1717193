"""`logpt ship`: publish followed log files to a Redis stream (engine/stream/ship.py does the work)."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Annotated

import typer

from engine.errors import LogptError
from logpt_tui.cli.console import err, safe

RedisOpt = Annotated[str, typer.Option("--redis", help="Redis URL, e.g. redis://127.0.0.1:6379/0.")]
StreamOpt = Annotated[str, typer.Option("--stream", help="The stream the records go to.")]
MaxlenOpt = Annotated[
    int | None, typer.Option("--maxlen", help="Keep about this many entries in the stream (XADD MAXLEN ~).")
]
OnceOpt = Annotated[bool, typer.Option("--once", help="Send what the files hold now and exit (no following).")]


def connect(url: str) -> object:
    """A Redis client for `url`, checked with a PING (a one-line error when it does not answer)."""
    try:
        import redis  # noqa: PLC0415 - only `ship` and `serve` need it
    except ImportError:
        raise LogptError("shipping needs the `redis` package", "pip install 'logpt-tui[stream]'") from None
    try:
        client = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5)
        client.ping()
    except ValueError as e:
        raise LogptError(f"not a Redis URL: {url!r} ({e})", "use redis://HOST:PORT/DB") from None
    except redis.exceptions.RedisError as e:
        raise LogptError(f"Redis at {url} does not answer: {e}", "start redis-server, or check --redis") from None
    return client


def ship(
    files: Annotated[list[Path], typer.Argument(help="Log files to follow and publish.")],
    redis_url: RedisOpt = "redis://127.0.0.1:6379/0",
    stream: StreamOpt = "logs",
    maxlen: MaxlenOpt = None,
    once: OnceOpt = False,
) -> None:
    """Follow files (appends, truncation, rotation) and XADD one entry per record (a stack trace whole) with
    source, byte offset, line number and text; each file's position is kept in Redis and advanced in the same
    transaction as its entries, so a restart neither loses nor repeats a record. SIGTERM or Ctrl+C: send
    what is complete, then exit."""
    from engine.stream.ship import ship_files  # noqa: PLC0415

    client = connect(redis_url)
    stopping = []
    for sig in (signal.SIGTERM, signal.SIGINT):  # finish the transaction under way, send what is complete, exit
        signal.signal(sig, lambda *_: stopping.append(True))
    sent = [0]

    def count(n: int) -> None:
        sent[0] += n

    where, follow = ", ".join(safe(f) for f in files), "" if once else " (Ctrl+C stops)"
    err.print(f"[dim]shipping {where} to {safe(redis_url)} stream {safe(stream)}{follow}[/dim]")
    ship_files(client, files, stream=stream, maxlen=maxlen, once=once, stop=lambda: bool(stopping), on_sent=count)
    err.print(f"[dim]{sent[0]:,} records sent[/dim]")
