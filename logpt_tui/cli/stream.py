"""`logpt ship`: publish followed log files to a Redis stream (engine/stream/ship.py does the work)."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from engine.detect.defaults import DEFAULT_LINE_MODEL, DEFAULT_SEQUENCE_MODEL
from engine.errors import LogptError
from engine.stream import BATCH, HOLD_MAX_S, HOLD_RECORDS, connect
from logpt_tui.cli.console import err, safe
from logpt_tui.cli.detect import pretrained_models

RedisOpt = Annotated[str, typer.Option("--redis", help="Redis URL, e.g. redis://127.0.0.1:6379/0.")]
StreamOpt = Annotated[str, typer.Option("--stream", help="The stream the records go to.")]
MaxlenOpt = Annotated[
    int | None, typer.Option("--maxlen", min=1, help="Keep about this many entries in the stream (XADD MAXLEN ~).")
]
OnceOpt = Annotated[bool, typer.Option("--once", help="Send what the files hold now and exit (no following).")]


def ship(
    files: Annotated[list[Path], typer.Argument(help="Log files to follow and publish; - reads stdin.")],
    redis_url: RedisOpt = "redis://127.0.0.1:6379/0",
    stream: StreamOpt = "logs",
    maxlen: MaxlenOpt = None,
    once: OnceOpt = False,
) -> None:
    """Follow files (appends, truncation, rotation) and XADD one entry per record (a stack trace whole) with
    source, byte offset, line number and text; each file's position is kept in Redis and advanced in the same
    transaction as its entries, so a restart neither loses nor repeats a record. SIGTERM or Ctrl+C: send
    what is complete, then exit."""
    client = connect(redis_url)  # first: without the redis package this is the one-line error
    from engine.stream.ship import bounded_lines, ship_files, ship_lines  # noqa: PLC0415

    stopping = []
    for sig in (signal.SIGTERM, signal.SIGINT):  # finish the transaction under way, send what is complete, exit
        signal.signal(sig, lambda *_: stopping.append(True))
    sent = [0]

    def count(n: int) -> None:
        sent[0] += n

    if [str(f) for f in files] == ["-"]:  # a pipe: shipped as it comes, until it ends
        import io  # noqa: PLC0415
        import sys  # noqa: PLC0415

        stdin = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace", newline="\n")
        count = ship_lines(client, bounded_lines(stdin), stream=stream, maxlen=maxlen)
        err.print(f"[dim]{count:,} records sent[/dim]")
        return
    if any(str(f) == "-" for f in files):
        raise LogptError("stdin (-) is shipped on its own", "run one `logpt ship -` per pipe")
    where, follow = ", ".join(safe(f) for f in files), "" if once else " (Ctrl+C stops)"
    err.print(f"[dim]shipping {where} to {safe(redis_url)} stream {safe(stream)}{follow}[/dim]")
    import redis  # noqa: PLC0415

    try:
        ship_files(client, files, stream=stream, maxlen=maxlen, once=once, stop=lambda: bool(stopping), on_sent=count)
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):  # stopped while Redis was away
        err.print(f"[yellow]stopped while Redis was unreachable: {sent[0]:,} records sent; the rest goes on the "
                  "next run (each file's position is kept in Redis)[/yellow]")  # fmt: skip
        return
    err.print(f"[dim]{sent[0]:,} records sent[/dim]")


GroupOpt = Annotated[str, typer.Option("--group", help="The consumer group (created when missing).")]
ConsumerOpt = Annotated[str | None, typer.Option("--consumer", help="This consumer's name (default: host-pid).")]
DetectorOpt = Annotated[
    str | None,
    typer.Option("--detector", help="A detector bundle: a name (logpt models) or a folder. Without: the pretrained "
                 "sequence model judges the order of lines, as `logpt detect` does for a file too short to self-train."),
]
LineModelOpt = Annotated[
    str, typer.Option("--line-model", help="Line model for 'unusual' evidence (name or folder).")
]
NoLineModelOpt = Annotated[bool, typer.Option("--no-line-model", help="Weigh no unusual-text evidence.")]
SequenceModelOpt = Annotated[
    str, typer.Option("--sequence-model", help="Pretrained sequence model, without --detector (name or folder).")
]
NoSequenceModelOpt = Annotated[
    bool, typer.Option("--no-sequence-model", help="Without --detector: no sequence evidence at all.")
]
FormatOpt = Annotated[str | None, typer.Option("--format", help="The records' format (default: detected).")]
BatchOpt = Annotated[int, typer.Option("--batch", min=1, max=100_000, help="Entries per micro-batch, at most.")]
BlockOpt = Annotated[int, typer.Option("--block-ms", min=0, help="How long a read waits for entries.")]
ClaimOpt = Annotated[
    int, typer.Option("--claim-idle-ms", min=0, help="Claim a dead consumer's entries idle this long.")
]
QuietOpt = Annotated[
    float,
    typer.Option("--incident-quiet-s", min=1.0, help="Close an incident (analyse it, write it to {STREAM}:incidents) "
                 "once no flag of its source has joined it for this long."),
]
HoldRecordsOpt = Annotated[
    int,
    typer.Option("--hold-records", min=0, help="Hold a source's first records' verdicts until it has this many (or "
                 "goes quiet, or --hold-max-s passes), then judge them on its counts then; 0: judge as they come."),
]
HoldMaxOpt = Annotated[
    float, typer.Option("--hold-max-s", min=0.0, help="A held record waits at most this long for its verdict.")
]
RuleOpt = Annotated[str, typer.Option("--rule", help="combined (evidence weighed) or topk (LogGPT/LogNEO).")]
MetricsOpt = Annotated[
    int | None,
    typer.Option("--metrics-port", min=1, max=65535, help="Serve /metrics (Prometheus), /healthz and /readyz here."),
]
MetricsHostOpt = Annotated[
    str, typer.Option("--metrics-host", help="The address the metrics port listens on (0.0.0.0: every interface).")
]


def serve(
    detector: DetectorOpt = None,
    redis_url: RedisOpt = "redis://127.0.0.1:6379/0",
    stream: StreamOpt = "logs",
    group: GroupOpt = "detect",
    consumer: ConsumerOpt = None,
    fmt: FormatOpt = None,
    batch: BatchOpt = BATCH,
    block_ms: BlockOpt = 100,
    claim_idle_ms: ClaimOpt = 30_000,
    incident_quiet_s: QuietOpt = 60.0,
    rule: RuleOpt = "combined",
    metrics_port: MetricsOpt = None,
    metrics_host: MetricsHostOpt = "127.0.0.1",
    line_model: LineModelOpt = DEFAULT_LINE_MODEL,
    no_line_model: NoLineModelOpt = False,
    sequence_model: SequenceModelOpt = DEFAULT_SEQUENCE_MODEL,
    no_sequence_model: NoSequenceModelOpt = False,
    hold_records: HoldRecordsOpt = HOLD_RECORDS,
    hold_max_s: HoldMaxOpt = HOLD_MAX_S,
) -> None:
    """Consume a stream in a consumer group (XREADGROUP), flag anomalous records with a detector and XADD
    each flag with its why to {STREAM}:flags; flags close together from one source become an incident, analysed
    (root cause, onset, evidence) and written once to {STREAM}:incidents when quiet; entries are acknowledged
    after their results are written, a dead consumer's entries are claimed (XAUTOCLAIM), bad entries go to
    {STREAM}:dead. Run as many as you like.
    SIGTERM or Ctrl+C: finish the batch, acknowledge, exit."""
    import os  # noqa: PLC0415
    import socket  # noqa: PLC0415

    from engine.detect import Detector  # noqa: PLC0415
    from engine.detect.evidence import RULES, EvidenceRule  # noqa: PLC0415
    from engine.lm.registry import find_bundle  # noqa: PLC0415
    from engine.logs.formats.detect import choose_format  # noqa: PLC0415
    from engine.stream.serve import Consumer, pipeline_for  # noqa: PLC0415
    from engine.stream.serve import serve as serve_loop  # noqa: PLC0415

    if rule not in RULES:
        raise typer.BadParameter(f"choose one of {', '.join(RULES)}", param_hint="--rule")
    client = connect(redis_url)
    loaded = Detector.load(find_bundle(detector, kind="detector")) if detector else None
    if loaded is None and rule == "topk":
        raise LogptError("--rule topk needs a --detector", "pass --detector BUNDLE, or --rule combined")
    line_lm, sequence = pretrained_models(None if no_line_model else line_model,
                                          None if no_sequence_model or loaded else sequence_model)  # fmt: skip
    fmt_found = choose_format(sample_texts(client, stream), fmt)
    pipeline = pipeline_for(loaded, fmt_found, EvidenceRule(rule), line_lm=line_lm, sequence=sequence)
    worker = Consumer(client, pipeline, stream=stream, group=group, batch=batch, block_ms=block_ms,
                      claim_idle_ms=claim_idle_ms, incident_quiet_s=incident_quiet_s, hold_records=hold_records,
                      hold_max_s=hold_max_s, name=consumer or f"{socket.gethostname()}-{os.getpid()}")  # fmt: skip
    stopping: list[bool] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.append(True))
    err.print(f"[dim]{safe(worker.name)} in group {safe(group)} on {safe(stream)} · {safe(fmt_found.name)} · judged by "
              f"{safe(judged_by(pipeline, detector))} · flags to "
              f"{safe(worker.flags_stream)}, incidents to {safe(worker.incidents.incidents)} (Ctrl+C stops)[/dim]")  # fmt: skip
    on_turn = metrics_turn(metrics_port, metrics_host) if metrics_port is not None else lambda _c: None
    stats = serve_loop(worker, lambda: bool(stopping), on_turn)
    err.print(f"[dim]{stats.entries:,} entries · {stats.flags:,} flagged · {worker.incidents.written:,} incidents "
              f"written · {stats.dead:,} dead-lettered · {stats.claimed:,} claimed[/dim]")  # fmt: skip


def judged_by(pipeline: object, detector: str | None) -> str:
    """Which models judge, for serve's start line: the detector, or the pretrained sequence model (or none), and the
    line model."""
    if pipeline.detector is not None:  # type: ignore[attr-defined]
        models = f"detector {detector}"
    elif pipeline.sequence is not None:  # type: ignore[attr-defined]
        models = f"{pipeline.source} (no detector)"  # type: ignore[attr-defined]  # engine.detect.pipeline.pretrained_source
    else:
        models = "no sequence model (severity, bursts and rarity)"
    return models + (" · line model" if pipeline.line_lm is not None else "")  # type: ignore[attr-defined]


def metrics_turn(port: int, host: str) -> Callable[[object], None]:
    """Serve /metrics, /healthz and /readyz on `host:port`; what the consumer's loop calls after each turn."""
    try:
        from engine.stream.metrics import Metrics, serve_http  # noqa: PLC0415
    except ImportError:
        raise LogptError("--metrics-port needs prometheus-client", "pip install 'logpt-tui[stream]'") from None
    metrics = Metrics()
    try:
        serve_http(metrics, port, host)
    except OSError as e:  # the port is taken, or the address is not this host's
        raise LogptError(f"cannot serve metrics on {host}:{port}: {e.strerror or e}",
                         "pick another --metrics-port or --metrics-host") from None  # fmt: skip
    err.print(f"[dim]metrics on {safe(host)}:{port}/metrics, probes on /healthz and /readyz[/dim]")
    return metrics.update  # type: ignore[return-value]


SAMPLE_RECORDS, SAMPLE_STEP = 200, 8  # the format is detected from the stream's first records, read a few at a time
SAMPLE_BYTES = 4 << 20  # … and from no more than this much of their text (a record over the cap is cut, as serve does)


def sample_texts(client: object, stream: str) -> list[str]:
    """The stream's first 200 records, to detect their format from (an empty stream: generic)."""
    import redis  # noqa: PLC0415

    from engine.stream import MAX_RECORD_BYTES, wrong_type  # noqa: PLC0415

    texts: list[str] = []
    start, seen = "-", 0
    while len(texts) < SAMPLE_RECORDS and seen < SAMPLE_BYTES:  # a few entries a read: they may be huge
        try:
            entries = client.xrange(stream, min=start, count=SAMPLE_STEP)  # type: ignore[attr-defined]
        except redis.exceptions.ResponseError as e:  # the key holds a string, a hash, …: one line, before any work
            raise wrong_type(e, stream) or e from None
        for entry_id, fields in entries:
            start = "(" + entry_id.decode()  # the next read starts after it
            if b"text" in fields:
                seen += len(fields[b"text"])
                texts.append(fields[b"text"][:MAX_RECORD_BYTES].decode("utf-8", "replace"))
        if len(entries) < SAMPLE_STEP:
            break
    return texts[:SAMPLE_RECORDS]
