"""Anomaly flags in the explorer: the flags of one file, and the detector that finds them.

`FlagSet` holds the flags found so far (0-based line → Flag) for the view,
the minimap and jumps. `FlagEngine` is the explorer's edge of
`engine.detect.pipeline`: it finds the detector cached for this file (keyed
by its resolved path in the user cache dir) or self-trains one on the file's
history and caches it, then feeds the file to a `SessionBook` block by block
— the same pipeline `logpt detect` runs, so both flag the same lines. It
self-trains as `logpt detect --self-train` does by default, and a file too
short to learn from when it was opened is self-trained on once it has grown
long enough (as `logpt detect --self-train` on it would be). It runs in
worker threads: torch loads there, never when the explorer opens.

A record the book holds back (its continuation lines may come in the next
block) ends where the explorer has read to the end of the file, as `logpt
detect` sees the file then; continuation lines appended after that (a writer
that splits one record over several writes) start records of their own.

The memory cap (BOOK_MB, the one setting) bounds what the session book holds, counted from its parts
(`engine.detect.bookbytes`: 12 bytes a line, 8 a severe line, 600 a session, 400 a sequence surprise). Past it the
engine takes no more lines: those taken are judged (as `logpt detect` judges a file cut there), the rest are not,
and the status bar says from which line (`capped_at`). A count, not the resident memory: a file is cut at the same
line on every run, whatever else the explorer holds. The budget it is part of, for a 600 MB explorer (measured on
the 300 MB, 2.7M-line OpenSSH log, docs/benchmarks.md): Python, Textual and numpy ~45 MB, torch ~180, the line
model ~90; the file's index 8 bytes a line (22 MB); the book (45 MB there; BOOK_MB at most: ~5-8M lines); one
scoring pass of at most PASS_KEYS keys (~6 MB, engine.detect.pipeline) and torch's buffers for a batch (~20 MB,
reused); flags ~200 bytes each with the FlagSet's index (those that read alike share their evidence), two sets
while one replaces the other; what loading the models and the preview free is given back (`release_free_heap`).
The index of a far bigger file is not the book's to cap.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import shutil
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import platformdirs

from engine.detect.bookbytes import book_bytes
from engine.detect.defaults import DEFAULT_LINE_MODEL, DEFAULT_SEQUENCE_MODEL
from logpt_tui.explorer.heap import release_free_heap
from logpt_tui.explorer.mining import Published
from logpt_tui.explorer.settings import BATCH, BOOK_MB, FLOOD_KEEP, FLOOD_LINES, SELF_TRAIN_EPOCHS

M = TypeVar("M")

if TYPE_CHECKING:
    from engine.detect import Detector
    from engine.detect.evidence import Incident
    from engine.detect.pipeline import DetectionPipeline, Flag, SessionBook
    from engine.detect.textseq import TextSeq
    from engine.detect.unusual import LineLM
    from engine.logs.formats import LogFormat
    from logpt_tui.explorer.mining import WorkerMining


class FlagSet:
    """The flags found so far in one file: 0-based line → Flag, and the same lines in order."""

    def __init__(self) -> None:
        self.by_line: dict[int, Flag] = {}
        self.lines: list[int] = []  # ascending
        self.upto = 0  # lines judged
        self.version = 0  # bumped on every change, for views that cache what they drew
        self._incidents: list[Incident] | None = None  # grouped when first asked for

    def __len__(self) -> int:
        return len(self.lines)

    def __contains__(self, line: int) -> bool:
        return line in self.by_line

    def get(self, line: int) -> Flag | None:
        return self.by_line.get(line)

    def reset(self, flags: Iterable[Flag], upto: int) -> None:
        """All flags of the lines judged so far (1-based lines in the flags; `upto` lines judged)."""
        self.by_line = {flag.line - 1: flag for flag in flags}
        self.lines = sorted(self.by_line)
        self.upto = upto
        self.version += 1
        self._incidents = None

    def incident_of(self, line: int) -> Incident | None:
        """The incident (flags close together) that 0-based `line` belongs to, if it is flagged."""
        from engine.detect.evidence import incidents  # noqa: PLC0415

        if line not in self.by_line:
            return None
        if self._incidents is None:
            self._incidents = incidents([self.by_line[n] for n in self.lines])
        return self._incidents[bisect_right(self._incidents, line + 1, key=lambda incident: incident.first) - 1]

    def clear(self) -> None:
        self.reset((), 0)

    def step(self, line: int, step: int) -> int | None:
        """The next flagged line after `line` (step > 0) or the previous one before it, wrapping round."""
        if not self.lines:
            return None
        if step > 0:
            i = bisect_right(self.lines, line)
            return self.lines[i] if i < len(self.lines) else self.lines[0]
        i = bisect_left(self.lines, line)
        return self.lines[i - 1] if i > 0 else self.lines[-1]

    def count(self, start: int, stop: int) -> int:
        """Flagged lines in 0-based start..stop-1."""
        return bisect_left(self.lines, stop) - bisect_left(self.lines, start)


def cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir("logpt")) / "detectors"


def cache_key(path: Path) -> str:
    return hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]


class FlagEngine:
    """The detection pipeline of one file and its session book.

    Workers call `prepare` once, then `catch_up` and `score` as lines arrive; a lock makes those calls
    one at a time, since the first pass and the tail worker are different threads. The book's miner is the
    tab's one miner: once the Templates view reads it (`read_keys`), what it mined is published after each block.
    """

    def __init__(
        self, path: Path, cache: Path | None = None, line_model: str | None = DEFAULT_LINE_MODEL,
        sequence_model: str | None = DEFAULT_SEQUENCE_MODEL, cap_mb: float = BOOK_MB,
    ) -> None:  # fmt: skip
        self.path = path
        # The pretrained models, as `logpt detect` takes them: unusual-text evidence, and sequence evidence for a
        # file too short to self-train on (engine.detect.defaults names them without importing torch).
        self.line_model, self.sequence_model = line_model, sequence_model
        self._line_lm: LineLM | None = None
        self._sequence: TextSeq | None = None
        self.cache = (cache or cache_dir()) / cache_key(path)
        self.pipeline: DetectionPipeline | None = None
        self.book: SessionBook | None = None
        self.lock = threading.Lock()
        self.skipped = 0  # lines a flood made the tail skip
        self.following = False  # the first pass is done
        self.resync = False  # the next catch-up takes every line (after a truncation), without sampling
        self.notice = ""  # something the user should hear about once (a corrupt cache set aside, the cap reached)
        self.cap_mb = cap_mb  # the session book's memory cap
        self.capped_at: int | None = None  # lines taken when the memory cap was reached: later lines are not judged
        self.published = Published(0, None, 0, {}, {})  # swapped whole, under the lock, by the book's writer
        self.reading = False  # someone reads the published keys (the Templates view): publish after every block

    @property
    def ready(self) -> bool:
        """Prepared and through the first pass: appended lines go to the tail from now on."""
        return self.book is not None and self.following

    @property
    def source(self) -> str:
        return self.pipeline.source if self.pipeline is not None else ""

    def prepare(
        self, history: Sequence[str], fmt: LogFormat | None = None, on_stage: Callable[[str], None] = lambda _s: None
    ) -> None:
        """Load the cached detector or self-train one on `history` (the file's first lines) and cache it; `fmt`: the
        file's format, as the tab detected it (detected from `history` when not given)."""
        from engine.detect.pipeline import DetectionPipeline  # noqa: PLC0415
        from engine.logs.formats import detect_format  # noqa: PLC0415

        fmt = fmt or detect_format(history).format
        cached = self.load_cached(on_stage)
        if cached is not None:
            pipeline = DetectionPipeline.prepare(history, fmt, detector=cached, source="cached", line_lm=self.line_lm())
        else:
            pipeline = self.self_train(history, fmt, on_stage)
        with self.lock:
            self.pipeline, self.book = pipeline, pipeline.book()
            self._publish()
        release_free_heap()  # what loading the models freed (logpt_tui/explorer/heap.py)

    def adopt(self, mined: WorkerMining, block: Callable[[int, int], list[str]]) -> None:
        """The Templates view mined the first lines before the book was ready (`mined`, its worker stopped): the book
        takes them with their keys and continues with that miner (without a detector the book's miner starts empty,
        as that one did; one self-trained just now learned the keys a fresh miner gives these lines). A cached
        detector keeps its own miner: it learned its keys on the file as it was then."""
        with self.lock:
            assert self.pipeline is not None and self.book is not None and not self.book.lines
            if self.pipeline.source == "cached" or mined.miner is None or mined.fmt is not self.pipeline.fmt:
                return
            self.pipeline = dataclasses.replace(self.pipeline, miner=mined.miner)
            self.book, keys = self.pipeline.book(), mined.keys  # its worker mines no more: the keys stay as they are
            for start in range(0, len(keys), BATCH):
                stop = min(len(keys), start + BATCH)
                self.book.add(block(start, stop), start + 1, keys[start:stop])
            self._publish()

    def read_keys(self) -> None:
        """The Templates view reads the book's keys: publish them now and after every block from now on (until then
        no block pays for a copy of the counts and the texts)."""
        with self.lock:
            self.reading = True
            self._publish()

    def _publish(self) -> None:
        """The book's keys so far, for the Templates view once it reads them (by the book's writer, under the lock)."""
        book, epoch = self.book, self.published.epoch + (self.book is not self.published.book)
        if self.reading and book is not None:
            counts, texts, capped = dict(book.tally.counts), book.pipeline.templates(), self.capped_at is not None
            self.published = Published(epoch, book, book.tally.lines, counts, texts, capped)

    def self_train(self, history: Sequence[str], fmt: LogFormat, on_stage: Callable[[str], None]) -> DetectionPipeline:
        """A pipeline self-trained on `history` (and its detector cached), or one without a detector when the
        history is too short to learn from."""
        from engine.detect.pipeline import DetectConfig, DetectionPipeline  # noqa: PLC0415

        config = DetectConfig(epochs=SELF_TRAIN_EPOCHS)
        pipeline = DetectionPipeline.prepare(
            history, fmt, config=config, trained_on=f"{self.path} (self-training in the explorer)",
            on_stage=on_stage, on_epoch=lambda r: on_stage(f"self-training {r.epoch}/{config.epochs}"),
            line_lm=self.line_lm(), sequence=self.sequence(),
        )  # fmt: skip
        if pipeline.detector is not None:  # too little history: nothing learned, nothing to cache
            with contextlib.suppress(OSError):  # a read-only cache costs the next start a retraining, nothing else
                pipeline.detector.save(self.cache, force=True)  # the cache is ours to replace
        return pipeline

    def retrain(self, block: Callable[[int, int], list[str]], total: int) -> None:
        """The file was too short to learn from, and has grown: self-train on it now if it is long enough (as
        `logpt detect --self-train` would on the file at this size); its lines are then judged again."""
        from engine.detect.pipeline import HISTORY_LINES  # noqa: PLC0415

        assert self.pipeline is not None
        pipeline = self.self_train(block(0, min(total, HISTORY_LINES)), self.pipeline.fmt, lambda _s: None)
        if pipeline.detector is None:
            return  # still too short: the book goes on without a sequence model
        with self.lock:
            self.pipeline, self.book, self.capped_at = pipeline, pipeline.book(), None
            self._publish()

    def line_lm(self) -> LineLM | None:
        """The line model, loaded once (in a worker); None when there is none, said once as a notice."""
        if self._line_lm is None and self.line_model:
            from engine.detect.unusual import find_line_lm  # noqa: PLC0415

            self._line_lm = self._load(find_line_lm, self.line_model, "line model", "unusual-text evidence")
            self.line_model = self.line_model if self._line_lm else None
        return self._line_lm

    def sequence(self) -> TextSeq | None:
        """The pretrained sequence model, loaded once (in a worker); None when there is none, said once."""
        if self._sequence is None and self.sequence_model:
            from engine.detect.textseq import find_text_seq  # noqa: PLC0415

            self._sequence = self._load(find_text_seq, self.sequence_model, "sequence model", "sequence evidence "
                                        "in a file too short to self-train on")  # fmt: skip
            self.sequence_model = self.sequence_model if self._sequence else None
        return self._sequence

    def _load(self, find: Callable[[str], M], name: str, what: str, lost: str) -> M | None:
        from engine.errors import LogptError  # noqa: PLC0415

        try:
            return find(name)
        except LogptError as e:
            self.notice = f"no {what} ({e.message}): no {lost}"
            return None

    def load_cached(self, on_stage: Callable[[str], None]) -> Detector | None:
        """The cached detector; a corrupt one is moved aside (`.corrupt`) with a notice, and None returned."""
        from engine.detect import Detector  # noqa: PLC0415
        from engine.errors import BundleError  # noqa: PLC0415

        if not self.cache.exists():
            return None
        on_stage("loading the cached detector")
        try:
            return Detector.load(self.cache)
        except BundleError as e:
            aside = self.cache.with_name(self.cache.name + ".corrupt")
            shutil.rmtree(aside, ignore_errors=True)
            with contextlib.suppress(OSError):
                os.replace(self.cache, aside)
            self.notice = f"the cached detector was unusable ({e.message}); moved aside, training a new one"
            return None

    def restart(self) -> None:
        """The file was truncated or replaced: its sessions start over (the detector stays)."""
        with self.lock:
            if self.pipeline is not None:
                self.book, self.resync, self.capped_at = self.pipeline.book(), True, None
                self._publish()

    def follow(self, block: Callable[[int, int], list[str]], total: int) -> None:
        """End of the first pass: take what arrived during it, to the end of the file; appended lines go to the tail."""
        self.following = True
        self.catch_up(block, total)

    @property
    def lines(self) -> int:
        """Lines taken so far."""
        return self.book.lines if self.book is not None else 0

    def take_notice(self) -> str:
        """What the user should hear about once ("" when nothing): said, it is forgotten."""
        notice, self.notice = self.notice, ""
        return notice

    def _at_cap(self, book: SessionBook) -> bool:
        """Whether the book may take no more lines: the memory cap is reached (said once, as a notice)."""
        if self.capped_at is None and book_bytes(book) > self.cap_mb * 2**20:
            self.capped_at = book.lines
            self.notice = (f"detector: lines after {book.lines:,} not judged: its sessions would pass the "
                           f"{self.cap_mb:g} MB memory cap")  # fmt: skip
        return self.capped_at is not None

    def catch_up(self, block: Callable[[int, int], list[str]], total: int) -> int:
        """Take the lines after the last one taken up to `total` (0-based block reader); returns lines skipped.

        Read and add happen under the lock, so two tail workers never take the same lines or leave a gap.
        When the file ran more than FLOOD_LINES ahead (a flood), the detector skips to the newest
        FLOOD_KEEP lines: it samples instead of falling ever further behind and holding the interpreter.
        Once following, `total` is the end of the file: the book's last record ends there (`SessionBook.finish`).
        A file that had too little history to learn from is self-trained on first, once it is long enough.
        Near the memory cap no more lines are taken (`capped_at`).
        """
        if self.following and self.pipeline is not None and self.pipeline.detector is None and total > self.lines:
            self.retrain(block, total)
        with self.lock:
            book = self.book
            assert book is not None
            start, skipped = book.lines, 0
            if total > start and self._at_cap(book):
                book.finish()  # the file ends here for the detector: its last record is judged too
                self._publish()
                return 0
            sample, self.resync = not self.resync, False
            if sample and total - start > FLOOD_LINES:
                skipped = total - FLOOD_KEEP - start
                start = total - FLOOD_KEEP  # the book ends its held record where the lines it gets jump ahead
                self.skipped += skipped
            if total > start:
                book.add(block(start, total), start + 1)
            if self.following:  # read to the end of the file: its last record ends there, for now
                book.finish()
            self._publish()
            return skipped

    def preview(self, lines: Sequence[str], first_line: int) -> list[Flag]:
        """Provisional flags of one block judged on its own (a copy of the miner, no earlier context): a large file's
        first exact flags wait for the whole file to be mined in order; the exact pass replaces these."""
        with self.lock:
            pipeline = self.pipeline
            assert pipeline is not None
            miner = pipeline.miner.copy()
        book = dataclasses.replace(pipeline, miner=miner).book()
        book.add(lines, first_line)
        book.finish()
        book.score()
        flags = book.flags()
        del book
        release_free_heap()  # the block's scoring buffers
        return flags

    def pending(self) -> int:
        """Sessions with keys not yet scored."""
        with self.lock:
            return len(self.book.dirty) if self.book is not None else 0

    def score(
        self, near: tuple[int, int] | None = None, limit: int | None = None, until_line: int | None = None,
        *, flags: bool = True,
    ) -> list[Flag]:  # fmt: skip
        """Score changed sessions: those reaching into 0-based lines `near`, or (at most `limit` of) all; with
        `until_line` (1-based), only their keys up to that line (`SessionBook.score`: a long session in parts).

        Returns every flag found so far (none with `flags=False`: a part whose flags nobody will see).
        """
        with self.lock:
            book = self.book
            assert book is not None
            pending = book.pending()
            if near is not None:
                pending = [s for s in pending if _touches(book.sessions[s].lines, near)]
            book.score(pending[:limit] if limit is not None else pending, until_line=until_line)
            return book.flags() if flags else []


def _touches(lines: list[int], near: tuple[int, int]) -> bool:
    """Whether a session's 1-based lines (ascending) reach into 0-based lines near[0]..near[1]-1."""
    i = bisect_left(lines, near[0] + 1)
    return i < len(lines) and lines[i] <= near[1]
