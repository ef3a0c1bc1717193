"""Search a log's lines in large blocks: which lines a `UserRegex` matches, and the first one from a line on.

A file (`LogSource`) is read in blocks of megabytes and matched as bytes and
as one text per block, never as a Python string per line:

- the pattern's `literals` (texts every match contains) are counted in the
  raw bytes first: a block without one is skipped undecoded, so a pattern
  with no match costs about a `grep -c`; where the rarest is in fewer than
  half the lines, only the lines that hold it (found by one `split` and a
  table of line starts) are decoded, joined and matched as a block of their
  own (ASCII-lowercased bytes for a case-blind pattern, and only on blocks
  that are all ASCII: elsewhere `k` may match a Kelvin sign);
- where the rarest literal is in more than one line in SPARSE and has a
  `context` (`\\.25\\b` of `\\d+\\.\\d+\\.\\d+\\.25\\b`: the literal and the plain
  items beside it, a regex every matching line also matches and that the
  regex finds by its literal), that narrower regex picks the lines first, and
  the pattern is matched on those alone when they are few;
- otherwise the regex scans the block's text in windows of about a megabyte
  with `^` and `$` at every line's ends, one `sub` a window that puts MARK
  where each match was, the lines holding a MARK found with numpy: no Python
  step per match (a window where a match crosses a line's end is scanned
  match by match; one with more matches than MATCHES_PER_LINE a line, line by
  line); a pattern that could look past a line's ends (`line_local` false:
  lookaround, `\\A`, `\\Z`, fuzzy or line-mode flags) is matched line by line.

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
`regex` module (about 20 MB/s for `\\d+\\.\\d+`), not of a DFA like grep's; so
does one whose literals are in most lines and have no context.
"""

from __future__ import annotations

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
SPARSE = 16  # a literal in more than one line in SPARSE: its context (a narrower regex) picks the lines first
MATCHES_PER_LINE = 4  # more a line in a window (an empty match at every character): its lines are searched one by one
MARK = "\x00"  # put where a match was (a text that holds it is scanned match by match)
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
        if not self.long and b"\r" in self.raw and (plain := _without_crlf(self.raw)) is not None:
            return plain.decode("utf-8", errors="replace")
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


def _without_crlf(raw: bytes) -> bytes | None:
    """The bytes without their CRs when each is before a newline or at the end, where the last line's newline
    would be (about twice as fast as replacing CRLF in the text, and the same text: a CR ends an invalid UTF-8
    sequence as the newline after it would); else None."""
    data = np.frombuffer(raw, dtype=np.uint8)
    after = np.flatnonzero(data == 13) + 1
    if bool((data[after[after < len(data)]] == 10).all()):
        return raw.translate(None, b"\r")
    return None


def read_block(source: BlockSearch, a: int, b: int) -> Block:
    if isinstance(source, LogSource):
        raw, lengths = source.raw_span(a, b)
        return Block(a, raw, lengths, None, source.max_line_bytes)
    return Block(a, None, None, source.block(a, b), 0)


def block_matches(block: Block, pattern: UserRegex, cancelled: Cancelled = never) -> list[int]:
    """The block's lines (0-based in the source, ascending) that the pattern matches."""
    if block.raw is None:
        return [block.first + i for i in pattern.matching(block.lines or [])]
    return [block.first + k for k in _block_lines(block, pattern, cancelled)]


def _block_lines(block: Block, pattern: UserRegex, cancelled: Cancelled) -> list[int]:
    """`block_matches` for a block of a file, its lines counted from 0."""
    assert block.raw is not None
    literals = pattern.literals
    if literals and (not literals[0].folded or block.raw.isascii()):
        hay = block.raw.lower() if literals[0].folded else block.raw
        counts: dict[Literal, int] = {}
        for literal in literals:  # longest first: one inside a longer one is in as many lines or more, not counted
            if not any(literal.needle in counted.needle for counted in counts):
                counts[literal] = hay.count(literal.needle) if b"\n" not in literal.needle else 0
                if counts[literal] == 0:  # every match holds it (and no line holds a newline): no line here matches
                    return []
        literal, hits = min(counts.items(), key=lambda pair: pair[1])
        if literal.whole and not block.long:  # each line that holds it matches
            return _holding(block, hay, literal.needle)
        narrower = pattern.narrower(literal) if pattern.line_local and hits * SPARSE > block.count else None
        if narrower is not None:  # every line that matches also matches it: cheaper to search than the pattern
            lines: list[int] | None = _scan_text(block.text, narrower, cancelled)
        else:
            lines = _holding(block, hay, literal.needle) if hits * DENSE <= block.count else None
        if lines is not None and len(lines) * DENSE <= block.count:  # few: those lines alone are matched
            return _held(block, lines, pattern, cancelled)
    if not pattern.line_local:
        return pattern.matching(block.text.split("\n"))
    return _scan_text(block.text, pattern, cancelled)


def _holding(block: Block, hay: bytes, needle: bytes) -> list[int]:
    """The lines (0-based in the block) whose bytes hold the needle (no newline in it): where `split` cut the
    bytes, looked up in the table of line starts, with no Python step per line."""
    pieces = hay.split(needle)
    if len(pieces) == 1:
        return []
    at = np.cumsum(np.fromiter(map(len, pieces), dtype=np.int64, count=len(pieces))[:-1] + len(needle)) - len(needle)
    return _distinct(np.searchsorted(block.starts, at, side="right") - 1)


def _distinct(ascending: np.ndarray) -> list[int]:
    """The values of an ascending array, each once (cheaper than np.unique's hashing)."""
    keep = np.ones(len(ascending), dtype=bool)
    keep[1:] = ascending[1:] != ascending[:-1]
    return ascending[keep].tolist()


def _held(block: Block, lines: list[int], pattern: UserRegex, cancelled: Cancelled) -> list[int]:
    """Which of the block's lines (ascending, 0-based) match: those lines alone are decoded, joined and matched
    like a block of their own."""
    assert block.raw is not None and block.lengths is not None
    if not lines:
        return []
    lengths, starts = block.lengths[lines], block.starts[lines]
    spans = map(slice, starts.tolist(), (starts + lengths).tolist())
    held = Block(0, b"\n".join(map(block.raw.__getitem__, spans)), lengths, None, block.max_line_bytes)
    if not pattern.line_local:
        return [lines[k] for k in pattern.matching(held.text.split("\n"))]
    return [lines[k] for k in _scan_text(held.text, pattern, cancelled)]


def _scan_text(text: str, pattern: UserRegex, cancelled: Cancelled) -> list[int]:
    """The lines of `text` (joined by "\\n") that match, by one regex scan per window of lines."""
    found: list[int] = []
    pos = line = 0  # pos: the start of a line, `line` its number
    size = len(text)
    markable = MARK not in text
    while pos <= size and not cancelled():
        end = text.find("\n", min(pos + WINDOW_CHARS, size))
        end = size if end == -1 else end
        newlines = text.count("\n", pos, end)
        try:
            lines = _window_marked(text[pos:end], newlines, pattern) if markable else None
            lines, resume = (lines, end + 1) if lines is not None else _window(text, pos, end, pattern)
        except TimeoutError:  # slow here: line by line, under the per-line limit (a catastrophic one gives up)
            lines, resume = pattern.matching(text[pos:end].split("\n")), end + 1
        found += [line + k for k in lines]
        line += newlines + 1 if resume == end + 1 else text.count("\n", pos, resume)
        pos = resume
    return found


def _window_marked(window: str, newlines: int, pattern: UserRegex) -> list[int] | None:
    """`_window`'s lines for a window of whole lines, found by one `sub` that puts MARK for each match and a look
    at which lines hold one (numpy over the UTF-8 bytes, where MARK and the newline are bytes of their own): no
    Python step per match. None when a match took a newline (it crossed a line's end); line by line where
    lines match many times each."""
    limit = (newlines + 1) * MATCHES_PER_LINE
    marked = pattern.mark_lines(window, MARK, limit + 1, newlines + 1)
    data = np.frombuffer(marked.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    kind = data[np.flatnonzero(data <= 10)]  # MARK, the newline, and a few control characters
    newline, mark = kind == 10, kind == 0
    if int(mark.sum()) > limit:  # empty matches everywhere (`x*`): each line searched alone is cheaper
        return pattern.matching(window.split("\n"))
    if int(newline.sum()) != newlines:
        return None
    return _distinct(np.cumsum(newline)[mark])


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
