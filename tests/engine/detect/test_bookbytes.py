"""What a session book says it holds (`book_bytes`, the number the explorer's memory cap compares) against what
it holds: every array and object counted one by one, and the heap growth tracemalloc sees while it fills."""

from __future__ import annotations

import gc
import tracemalloc

from engine.detect import bookbytes
from engine.detect.bookbytes import book_bytes
from engine.detect.pipeline import DetectConfig, DetectionPipeline, SessionBook
from engine.logs.formats import detect_format
from tests.engine.detect.test_pipeline import random_detector, syslog


def counted(book: SessionBook) -> int:
    """The slow reference: each session's columns, each severe line, each run, surprise and kept verdict."""
    columns = sum(len(s.keys) * 4 + len(s.lines) * 4 + bookbytes.SESSION_BYTES for s in book.sessions.values())
    tally = book.tally
    severe = sum(8 for _ in book.severe.items())
    surprises = sum(len(found) for found in book.surprises_of.values()) * bookbytes.SURPRISE_BYTES
    verdicts = sum(len(v) for v in book.verdicts.values()) * bookbytes.VERDICT_BYTES
    return columns + 4 * len(tally.key_ids) + 4 * len(tally.run_starts) + severe + surprises + verdicts


def book_of(lines: list[str], *, keep_verdicts: bool = False) -> SessionBook:
    """An empty book of a pipeline with a small random detector (the format read from `lines`)."""
    fmt = detect_format(lines).format
    detector = random_detector(sorted({f"{k}" for k in range(9)}), block=8, complete=False)
    return DetectionPipeline.prepare(lines, fmt, detector=detector, config=DetectConfig()).book(
        keep_verdicts=keep_verdicts
    )


def test_book_bytes_counts_every_part_of_the_book_as_it_grows_and_is_scored() -> None:
    lines = syslog(3_000)
    for keep_verdicts in (False, True):
        book, said = book_of(lines, keep_verdicts=keep_verdicts), []
        for start in range(0, len(lines), 500):
            book.add(lines[start : start + 500], start + 1)
            book.score()
            assert book.surprises_of and book_bytes(book) == counted(book)  # continuation-free: the bound is exact
            said.append(book_bytes(book))
        assert said == sorted(said) and said[-1] > 3_000 * 12


def test_book_bytes_is_what_the_heap_grows_by_while_a_book_fills() -> None:
    lines = syslog(12_000)
    empty = book_of(lines[:2_000])
    gc.collect()
    tracemalloc.start()  # the book from its start: an array that grows is traced whole
    book = empty.pipeline.book()
    for start in range(0, len(lines), 2_000):
        book.add(lines[start : start + 2_000], start + 1)
    book.finish()
    gc.collect()
    grown = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert 0.8 * grown <= book_bytes(book) <= 1.25 * grown, (book_bytes(book), grown)
