"""Where a big, growing log's chunks start, planned line by line as the log is read.

The explorer cannot count tokens of a whole 1 GiB log before showing chunks,
so it plans progressively: `extend(lines)` takes the next lines with their
token counts and closes a chunk whenever the next line would overflow the
budget (a line over the budget on its own gets a chunk to itself and is cut
when analysed). Counts are per line plus one for each joining newline, an
estimate within a few tokens of the exact count of the joined text, which
`chunker.chunk_lines` computes when a chunk is analysed.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence


class ChunkPlan:
    def __init__(self, count_batch: Callable[[Sequence[str]], list[int]], budget: int) -> None:
        assert budget >= 1
        self.count_batch = count_batch
        self.budget = budget
        self.starts: list[int] = []  # 0-based first line of each chunk
        self.planned = 0  # lines taken so far
        self._used = 0  # tokens in the open (last) chunk

    def extend(self, lines: Sequence[str]) -> None:
        for cost in self.count_batch(lines):
            if not self.starts or self._used + 1 + cost > self.budget:
                self.starts.append(self.planned)
                self._used = cost
            else:
                self._used += 1 + cost  # the joining newline, then the line
            self.planned += 1

    def reset(self) -> None:
        self.starts.clear()
        self.planned = 0
        self._used = 0

    def __len__(self) -> int:
        return len(self.starts)

    def chunk_of(self, line: int) -> int | None:
        """The chunk holding 0-based `line`, or None when planning has not reached it."""
        if not self.starts or line >= self.planned or line < 0:
            return None
        return bisect_right(self.starts, line) - 1

    def span(self, k: int) -> tuple[int, int]:
        """(first line, one past the last line) of chunk k, 0-based; the last chunk may still grow."""
        stop = self.starts[k + 1] if k + 1 < len(self.starts) else self.planned
        return self.starts[k], stop
