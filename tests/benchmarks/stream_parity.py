"""Parity of `logpt serve` with `logpt detect` (#31): the same file judged whole by the pipeline and record by
record by a stream consumer with the detector `logpt detect` saved, line by line, with the difference counted per
kind of evidence.

For each file, as a user would run it:

1. `logpt detect FILE --self-train --save DIR` (the line model and, where the file is too short to self-train on,
   the pretrained sequence model, as the CLI loads them): its flagged lines;
2. `logpt ship FILE --once` to a real redis-server on 127.0.0.1, then `logpt serve --detector DIR` (the consumer
   the CLI builds: `consumer_for`, with --incident-quiet-s 1 and the line model), drained until no source's
   records are held: the lines flagged in `{logs}:flags`. A file too short to self-train on saves no detector: its
   consumer is `logpt serve` without `--detector`, judged by the pretrained sequence model as detect judges it.

Only detect's lines and the stream's are compared (line numbers are the file's); "same" is a line both flag,
"others" the stream's lines detect does not flag (as a share of the stream's flags). The kinds columns count, for
the lines one side flags and the other does not, the evidence kinds the flagging side weighed on them.

    python -m tests.benchmarks.bench_stream --parity FILES... [--detectors DIR]

`--detectors DIR` keeps each file's self-trained detector there (`DIR/<file name>`) and reuses it on the next run:
self-training is the slow part, and the same detector makes runs comparable.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import redis

from engine.detect import Detector
from engine.detect.evidence import EvidenceRule
from engine.detect.history import DetectConfig
from engine.detect.pipeline import DetectionPipeline
from engine.detect.textseq import find_text_seq
from engine.detect.unusual import find_line_lm
from engine.logs.formats import choose_format
from engine.logs.textio import read_lines
from engine.stream.ship import ship_files
from tests.redis_server import RedisServer

QUIET_S = 1.0  # `logpt serve --incident-quiet-s`: a quiet source's held records are judged after it (default 60 s)


@dataclass(frozen=True)
class Parity:
    file: str
    model: str  # what judged the order of lines: "self-trained" or the pretrained sequence model
    detect: dict[int, tuple[str, ...]]  # line → evidence kinds
    stream: dict[int, tuple[str, ...]]

    @property
    def same(self) -> int:
        return len(self.detect.keys() & self.stream.keys())

    def only(self, side: str) -> Counter[str]:
        """The evidence kinds `side` weighed on the lines only it flags."""
        mine, other = (self.detect, self.stream) if side == "detect" else (self.stream, self.detect)
        return Counter(kind for line, kinds in mine.items() if line not in other for kind in kinds)

    def row(self) -> str:
        d, s, same = len(self.detect), len(self.stream), self.same
        of_detect = f"{same / d:.0%}" if d else "–"
        others = f"{s - same} ({(s - same) / s:.0%})" if s else "0"
        kinds = lambda c: ", ".join(f"{k} ×{n}" for k, n in c.most_common()) or "–"  # noqa: E731
        return (f"| {self.file} | {self.model} | {d} | {s} | {same} | {of_detect} | {others} | "
                f"{kinds(self.only('detect'))} | {kinds(self.only('stream'))} |")  # fmt: skip


HEADER = (
    "| file | sequence model | `logpt detect` flagged lines | stream flags | same lines | of detect's | stream's others |"
    " detect only: its evidence kinds | stream only: its evidence kinds |\n|---|---|---:|---:|---:|---:|---:|---|---|"
)


def detect_side(path: Path, kept: Path, models: tuple) -> tuple[DetectionPipeline, dict[int, tuple[str, ...]], Path | None]:
    """`logpt detect FILE --self-train --save DIR`: the pipeline, its flags and the saved detector (None: too short;
    the pretrained sequence model judged). A detector kept from an earlier run is loaded instead of trained."""
    line_lm, sequence = models
    lines = read_lines(path)
    fmt = choose_format(lines, None, ())
    loaded = Detector.load(kept) if (kept / "config.json").exists() else None
    pipeline = DetectionPipeline.prepare(lines, fmt, detector=loaded, config=DetectConfig(rule=EvidenceRule()),
                                         line_lm=line_lm, sequence=None if loaded else sequence)  # fmt: skip
    if loaded is None and pipeline.detector is not None:
        pipeline.detector.save(kept, force=True)
    flags = pipeline.judge(lines).flags()
    return pipeline, {f.line: tuple(e.kind for e in f.evidence) for f in flags}, kept if pipeline.detector else None


def stream_side(server: RedisServer, path: Path, bundle: Path | None, models: tuple) -> dict[int, tuple[str, ...]]:
    """`logpt ship FILE --once`, then `logpt serve --detector DIR` until every entry is judged: the flagged lines."""
    client = redis.Redis.from_url(server.url)
    client.flushall()
    total = ship_files(client, [path], once=True)
    consumer = consumer_for(client, bundle, models=models)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:  # until every entry is judged and no source's first records are held
        consumer.step()
        if (client.xpending("logs", "detect")["pending"] == 0 and consumer.stats.entries >= total
                and not client.zcard("{logs}:hold-due")):  # fmt: skip
            break
    flags = client.xrange("{logs}:flags")
    return {int(f[b"line"]): tuple(e[0] for e in json.loads(f[b"evidence"])) for _i, f in flags}


def consumer_for(client: redis.Redis, bundle: Path | None, *, models: tuple) -> object:
    """The consumer `logpt serve --detector DIR` builds, with the line model (`bundle` None: `logpt serve` without
    --detector, the pretrained sequence model)."""
    from engine.logs.formats.detect import choose_format as choose  # noqa: PLC0415
    from engine.stream.serve import Consumer, pipeline_for  # noqa: PLC0415
    from logpt_tui.cli.stream import sample_texts  # noqa: PLC0415

    loaded = Detector.load(bundle) if bundle is not None else None
    fmt = choose(sample_texts(client, "logs"), None)
    line_lm, sequence = models
    pipeline = pipeline_for(loaded, fmt, EvidenceRule("combined"), line_lm=line_lm, sequence=None if loaded else sequence)
    return Consumer(client, pipeline, name="parity", incident_quiet_s=QUIET_S)


def parity(files: list[Path], detectors: Path | None) -> list[Parity]:
    models = (find_line_lm(), find_text_seq())
    found = []
    with tempfile.TemporaryDirectory() as tmp:
        server = RedisServer(Path(tmp))
        server.start()
        try:
            for path in files:
                kept = (detectors or Path(tmp)) / path.name
                pipeline, detected, bundle = detect_side(path, kept, models)
                streamed = stream_side(server, path, bundle, models)
                found.append(Parity(path.name, "self-trained" if bundle else pipeline.source, detected, streamed))
        finally:
            server.stop()
    return found


def print_parity(files: list[Path], detectors: Path | None) -> None:
    results = parity(files, detectors)
    print(HEADER)
    for p in results:
        print(p.row())
    d = sum(len(p.detect) for p in results)
    s = sum(len(p.stream) for p in results)
    same = sum(p.same for p in results)
    print(f"| **all {len(results)}** | | {d} | {s} | {same} | {same / max(d, 1):.0%} | {s - same} "
          f"({(s - same) / max(s, 1):.0%}) | | |")  # fmt: skip
