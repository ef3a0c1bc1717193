"""Choosing a format from a sample and turning lines into records.

Detection: every format parses up to `SAMPLE_LINES` non-empty lines; the one
that matches the most wins (earlier formats win ties), provided it matches at
least `MIN_SHARE` of them; otherwise the generic format is used. A format with
a `header` is tried only on a sample that holds its header line, and the
winner is `fitted` to the sample (the columns a header names). Parsing: a
line the format does not match is attached to the previous record when it
looks like a continuation (indented, a stack frame, "Caused by", the format's
own `more`) and otherwise becomes a record of its own with the whole line as
message.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.errors import InputError
from engine.logs.formats.generic import GENERIC
from engine.logs.formats.load import load_formats
from engine.logs.formats.record import Record
from engine.logs.formats.spec import CONTINUATION, LogFormat

SAMPLE_LINES = 200
MIN_SHARE = 0.3
MAX_CONTINUATION_LINES = 200  # a record keeps at most this many attached lines


@dataclass(frozen=True)
class Detection:
    format: LogFormat
    matched: int  # sample lines the format parsed
    sampled: int  # non-empty sample lines that are not continuation lines (stack frames, …)

    @property
    def share(self) -> float:
        return min(1.0, self.matched / self.sampled) if self.sampled else 0.0


def detect_format(lines: Iterable[str], formats: Sequence[LogFormat] | None = None) -> Detection:
    """The format that parses most of a sample; `formats` defaults to `load_formats()` (user formats too)."""
    sample = [line for line, _ in zip((ln for ln in lines if ln.strip()), range(SAMPLE_LINES), strict=False)]
    candidates = list(formats) if formats is not None else load_formats()
    best: Detection | None = None
    for fmt in candidates:
        if fmt.header and not any(line.startswith(fmt.header) for line in sample):
            continue  # a format of headed files (W3C, Zeek): not without its header
        hits = [fmt.parse(line, i) is not None for i, line in enumerate(sample)]
        if fmt.entries and True in hits:  # a block format's field lines after its first entry are its too
            start = hits.index(True)
            hits = [
                i >= start and (hit or fmt.entry_line(line))
                for i, (hit, line) in enumerate(zip(hits, sample, strict=True))
            ]
        matched = sum(hits)
        if matched and (best is None or matched > best.matched):
            # Lines the format misses but that read as continuations do not count against it.
            misses = sum(1 for hit, line in zip(hits, sample, strict=True) if not hit and not _continues(fmt, line))
            best = Detection(fmt, matched, matched + misses)
    if best is None or best.share < MIN_SHARE:
        return Detection(GENERIC, len(sample), len(sample))
    return Detection(best.format.fitted(sample), best.matched, best.sampled)


def _continues(fmt: LogFormat, line: str) -> bool:
    """A sample line that reads as a continuation: the usual ones and the format's own (`more`); not a block
    format's `continues`, which takes any line."""
    return CONTINUATION.match(line) is not None or (fmt.more is not None and fmt.more.match(line) is not None)


def choose_format(lines: Sequence[str], name: str | None = None, files: Sequence[Path] = ()) -> LogFormat:
    """The format called `name`, or the one detected from `lines`; user formats from `files` included."""
    formats = load_formats(files)
    if name is None:
        return detect_format(lines, formats).format
    by_name = {f.name: f for f in formats}
    if name not in by_name:
        raise InputError(f"unknown format {name!r}", f"known: {', '.join(by_name)}")
    return by_name[name]


def parse_lines(
    lines: Iterable[str], fmt: LogFormat, *, first_line: int = 1, multiline: bool = True
) -> Iterator[Record]:
    """Records for consecutive lines; with `multiline`, continuation lines join the record before them."""
    pending: Record | None = None
    extra: list[str] = []
    for number, text in enumerate(lines, first_line):
        record = fmt.parse(text, number)
        if record is None:
            if multiline and pending is not None and len(extra) < MAX_CONTINUATION_LINES and fmt.continues(text):
                extra.append(text)
                continue
            if multiline and pending is None and fmt.entries and fmt.continues(text):
                # An entry cut by the start of these lines (a chunk, a batch): a record of the fields it still has.
                pending, extra = Record(number, number - 1, ""), [text]  # finish counts `text` into end_line
                continue
            record = GENERIC.parse(text, number)
            assert record is not None  # the generic pattern matches any line
        if pending is not None:
            yield fmt.finish(pending, extra)
        pending, extra = record, []
    if pending is not None:
        yield fmt.finish(pending, extra)
