"""Search a log's lines in large blocks: which lines a `UserRegex` matches, and the first one from a line on.

A file (`LogSource`) is read in blocks of megabytes and matched as bytes and
as one text per block, never as a Python string per line:

- the pattern's `literals` (texts every match contains) are counted in the
  raw bytes first: a block without one is skipped undecoded, so a pattern
  with no match costs about a `grep -c`; where the rarest is in fewer than
  half the lines, only those lines are decoded, joined and matched as a
  block of their own (ASCII-lowercased bytes for a case-blind pattern, and
  only on blocks that are all ASCII: elsewhere `k` may match a Kelvin sign);
- otherwise the regex scans the block's text in windows of about a megabyte
  with `^` and `$` at every line's ends (`finditer`, one call a window); a
  pattern that could look past a line's ends (`line_local` false: lookaround,
  `\\A`, `\\Z`, fuzzy or line-mode flags) is matched line by line instead.

The text matched is exactly the source's lines (`LogSource.block`): a line
ends at `\\n`, a `\\r` before it is dropped, invalid UTF-8 is replaced, a line
over `max_line_bytes` is cut, a last line without a newline counts. A match
that crosses a line's end is checked against its first line alone. The time
the regex spends counts against the pattern's budget (engine/logs/userregex.py),
and a window that runs past the per-call limit is matched line by line under
the per-line limit, so a catastrophic pattern is still refused with one line.
Other sources (a merged view, a stream) are matched line by line in blocks.

`scan` yields each block's matching lines (a count, a filter); `find` returns
the first match at or after a line (before it, backwards), wrapping around,
starting with a small block so that a match near the cursor shows at once.
Both take `cancelled`, checked between windows, and use a second thread to
read and match the next block while the caller handles this one. What is
left to a later engine: a pattern with no literal runs at the speed of the
`regex` module (about 20 MB/s for `\\d+\\.\\d+`), not of a DFA like grep's.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from itertools import islice

import numpy as np

from engine.logs.logsource import BlockSearch, LogSource
from engine.logs.userregex import Literal, UserRegex

BLOCK_BYTES = 8 << 20  # bytes read and matched per block
FIRST_BYTES = 128 << 10  # a find's first block: small, so a match near the start line shows at once
WINDOW_CHARS = 1 << 20  # text one regex call may cover: the per-call time limit and Esc are checked between them
DENSE = 2  # a literal in more than one line in DENSE: the regex scans the whole block, not those lines alone
MATCHES_PER_LINE = 4  # more in one line (an empty match at every character): scan again from the next line
TEXT_LINES = 20_000  # lines per block of a source that is not a file

Cancelled = Callable[[], bool]


def never() -> bool:
    return False


class Block:
    """Lines first..first+count-1: their bytes as on disk (None for a source of text lines) and their text."""

    def __init__(self, first: int, raw: bytes | None, lengths: np.ndarray | None, lines: list[str] | None,
                 max_line_bytes: int) -> None:  # fmt: skip
        self.first, self.raw, self.lines, self.max_line_bytes = first, raw, lines, max_line_bytes
        self.lengths = lengths
        self.count = len(lengths) if lengths is not None else len(lines or ())
        self.long = lengths is not None and self.count > 0 and int(lengths.max()) > max_line_bytes

    @cached_property
    def starts(self) -> np.ndarray:
        """Where each line starts in `raw`, and one more: past the end as if it ended in a newline."""
        assert self.lengths is not None
        return np.concatenate(([0], np.cumsum(self.lengths + 1)))

    @cached_property
    def text(self) -> str:
        """The lines joined by "\\n", each exactly as `LogSource.block` gives it."""
        assert self.raw is not None
        text = self.raw.decode("utf-8", errors="replace")
        if self.long:
            return "\n".join(self.line_text(line) for line in text.split("\n"))
        return text.replace("\r\n", "\n").removesuffix("\r") if "\r" in text else text

    def texts(self) -> list[str]:
        """The lines, each as `LogSource.block` gives it."""
        return self.text.split("\n") if self.raw is not None else list(self.lines or ())

    def line_text(self, decoded: str) -> str:
        """A line of the file as the source reads it: cut at max_line_bytes characters, a CR before LF dropped."""
        return decoded[: self.max_line_bytes].removesuffix("\r")


def read_block(source: BlockSearch, a: int, b: int) -> Block:
    if isinstance(source, LogSource):
        raw, lengths = source.raw_span(a, b)
        return Block(a, raw, lengths, None, source.max_line_bytes)
    return Block(a, None, None, source.block(a, b), 0)


def block_matches(block: Block, pattern: UserRegex, cancelled: Cancelled = never) -> list[int]:
    """The block's lines (0-based in the source, ascending) that the pattern matches."""
    if block.raw is None:
        return [block.first + i for i in pattern.matching(block.lines or [])]
    literals = pattern.literals
    if literals and (not literals[0].folded or block.raw.isascii()):
        hay = block.raw.lower() if literals[0].folded else block.raw
        counts = []
        for literal in literals:
            counts.append(hay.count(literal.needle))
            if counts[-1] == 0:  # every match holds it: no line here matches
                return []
        hits, literal = min(zip(counts, literals, strict=True), key=lambda pair: pair[0])
        if hits * DENSE <= block.count:
            return [block.first + k for k in _candidates(block, hay, literal, pattern, cancelled)]
        if literal.whole and not block.long:
            return [block.first + k for k, line in enumerate(hay.split(b"\n")) if literal.needle in line]
    if not pattern.line_local:
        return [block.first + i for i in pattern.matching(block.text.split("\n"))]
    return [block.first + k for k in _scan_text(block.text, pattern, cancelled)]


def _candidates(block: Block, hay: bytes, literal: Literal, pattern: UserRegex, cancelled: Cancelled) -> list[int]:
    """The lines that hold the literal and match (0-based in the block): those lines alone are decoded, joined
    and matched like a block of their own."""
    assert block.raw is not None and block.lengths is not None
    starts, lines, pos = block.starts.tolist(), [], 0
    while (hit := hay.find(literal.needle, pos)) != -1:
        line = bisect_right(starts, hit) - 1
        lines.append(line)
        pos = starts[line + 1]
    if literal.whole and not block.long:  # each of these lines holds the whole pattern
        return lines
    raw, lengths = block.raw, block.lengths[lines]
    spans = zip(block.starts[lines].tolist(), (block.starts[lines] + lengths).tolist(), strict=True)
    held = Block(0, b"\n".join(raw[a:b] for a, b in spans), lengths, None, block.max_line_bytes)
    if not pattern.line_local:
        return [lines[k] for k in pattern.matching(held.text.split("\n"))]
    return [lines[k] for k in _scan_text(held.text, pattern, cancelled)]


def _scan_text(text: str, pattern: UserRegex, cancelled: Cancelled) -> list[int]:
    """The lines of `text` (joined by "\\n") that match, by one regex scan per window of lines."""
    found: list[int] = []
    pos = line = 0  # pos: the start of a line, `line` its number
    size = len(text)
    starts = _line_starts(text) if text.isascii() else None
    while pos <= size and not cancelled():
        end = text.find("\n", min(pos + WINDOW_CHARS, size))
        end = size if end == -1 else end
        try:
            lines = _window_ascii(text, pos, end, pattern, starts, line) if starts is not None else None
            lines, resume = (lines, end + 1) if lines is not None else _window(text, pos, end, pattern)
        except TimeoutError:  # slow here: line by line, under the per-line limit (a catastrophic one gives up)
            lines, resume = pattern.matching(text[pos:end].split("\n")), end + 1
        found += [line + k for k in lines]
        pos, line = resume, line + text.count("\n", pos, resume)
    return found


def _line_starts(text: str) -> np.ndarray:
    """Where each line of an ASCII text starts (one character a byte), and its end + 1."""
    newlines = np.flatnonzero(np.frombuffer(text.encode("ascii"), dtype=np.uint8) == 10)
    return np.concatenate(([0], newlines + 1, [len(text) + 1]))


def _window_ascii(text: str, pos: int, end: int, pattern: UserRegex, starts: np.ndarray, first: int) -> list[int] | None:
    """`_window`'s lines for an ASCII text, found by looking the matches' starts up in its line starts (no
    Python step per match); None when a match crosses a line's end or lines match many times each."""
    limit = (int(np.searchsorted(starts, end, side="right")) - first) * MATCHES_PER_LINE
    spans = [match.span() for match in islice(pattern.finditer_lines(text, pos, end), limit + 1)]
    if len(spans) > limit:
        return None
    if not spans:
        return []
    at = np.array(spans, dtype=np.int64)
    lines = np.searchsorted(starts, at[:, 0], side="right") - 1
    if (at[:, 1] > starts[lines + 1] - 1).any():
        return None
    return (np.unique(lines) - first).tolist()


def _window(text: str, pos: int, end: int, pattern: UserRegex) -> tuple[list[int], int]:
    """The lines of text[pos:end] that match (counted from pos's line), and where to go on from: `end + 1`, or
    the start of a line where the scan stopped early (after a match that crossed a line's end, or a line that
    matched many times: from there a new scan starts)."""
    found: list[int] = []
    line, start, stop, seen = -1, pos, pos - 1, 0  # the line of the last match: its number, span, matches in it
    for match in pattern.finditer_lines(text, pos, end):
        at = match.start()
        if at > stop:  # a match on a new line
            line += 1 + text.count("\n", stop + 1, at)
            start, stop, seen = text.rfind("\n", 0, at) + 1, text.find("\n", at, end), 0
            stop = end if stop == -1 else stop
            found.append(line)
        seen += 1
        if match.end() > stop:  # crossed the line's end: its first line judged alone, the next lines afresh
            if not pattern.search(text[start:stop]):
                found.pop()
            return found, stop + 1
        if seen > MATCHES_PER_LINE and stop < end:
            return found, stop + 1
    return found, end + 1


def block_lines(source: BlockSearch, size: int | None = None) -> int:
    """Lines in a block of about `size` bytes (BLOCK_BYTES) of the source, by its average line."""
    if not isinstance(source, LogSource):
        return TEXT_LINES
    per_line = max(1, source.size // max(1, len(source)))
    return max(1, (BLOCK_BYTES if size is None else size) // per_line)


def _spans(source: BlockSearch, a: int, b: int, first_bytes: int, reverse: bool) -> Iterator[tuple[int, int]]:
    """Line ranges covering a..b-1 in order (from the end when reversed), the first about `first_bytes`, each
    after it twice the last, up to BLOCK_BYTES."""
    step, most = min(block_lines(source, first_bytes), block_lines(source)), block_lines(source)
    while a < b:
        if reverse:
            yield max(a, b - step), b
            b = max(a, b - step)
        else:
            yield a, min(b, a + step)
            a = min(b, a + step)
        step = min(most, 2 * step)


def scan(
    source: BlockSearch,
    pattern: UserRegex,
    start: int = 0,
    stop: int | None = None,
    *,
    cancelled: Cancelled = never,
    first_bytes: int = BLOCK_BYTES,
    reverse: bool = False,
    workers: int = 2,
) -> Iterator[tuple[int, int, list[int]]]:
    """(a, b, matching lines in a..b-1) for blocks covering start..stop-1, in order (from the end when
    reversed); stops early when cancelled. With two `workers` the next block is read and matched in a second
    thread meanwhile (the regex lets go of the GIL while it matches)."""
    stop = len(source) if stop is None else stop
    spans = _spans(source, max(0, start), stop, first_bytes, reverse)

    def work(span: tuple[int, int]) -> tuple[int, int, list[int]]:
        return span[0], span[1], block_matches(read_block(source, *span), pattern, cancelled)

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="logpt-search")
    pending = [pool.submit(work, span) for span in _take(spans, workers)]
    try:
        while pending and not cancelled():
            done = pending.pop(0).result()
            if cancelled():  # while the block was read: what it found is not asked for any more
                return
            pending += [pool.submit(work, span) for span in _take(spans, 1)]
            yield done
    finally:  # also when the caller stops early (a find): the block still being matched is left to finish alone
        pool.shutdown(wait=False, cancel_futures=True)


def _take(spans: Iterator[tuple[int, int]], n: int) -> list[tuple[int, int]]:
    return list(islice(spans, n))


def find(source: BlockSearch, pattern: UserRegex, start: int, *, forward: bool = True,
         cancelled: Cancelled = never) -> int | None:  # fmt: skip
    """The first line at or after `start` (at or before it, backwards) that the pattern matches, wrapping
    around the end (the start); None when no line matches or when cancelled."""
    total = len(source)
    if total == 0:
        return None
    start %= total
    parts = [(start, total), (0, start)] if forward else [(0, start + 1), (start + 1, total)]
    for a, b in parts:
        for _, _, lines in scan(source, pattern, a, b, cancelled=cancelled, first_bytes=FIRST_BYTES,
                                reverse=not forward):  # fmt: skip
            if lines:
                return lines[0] if forward else lines[-1]
    return None
