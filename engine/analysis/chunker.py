"""Line-aligned chunks of a log that fit a token budget.

The budget is what the model's context leaves for the log after the reply and
the prompt's own tokens (`chunk_budget`). Lines are never split across chunks;
a single line longer than the budget is cut and marked. Token counts are
exact: a chunk's text is re-counted as a whole, since BPE merges can differ
across a line boundary from the per-line sum.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

CUT_MARKER = " …[cut {n} chars]"
REPLY_TOKENS = 384  # the default reply budget: the analyst's summary of 60 lines takes up to ~350 tokens (p95)
MODEL_CHUNK_LINES = 60  # lines per chunk of a digest bundle: an incident's worth (its digest counts them all)
ANALYST_CHUNK_LINES = 100  # lines per chunk when the analyst answers (CLI and explorer): it reads lines, not tokens


@dataclass(frozen=True)
class Chunk:
    index: int  # 0-based
    first_line: int  # 1-based, inclusive
    last_line: int  # 1-based, inclusive
    text: str  # the lines joined with "\n", long lines cut
    n_tokens: int
    cut_lines: int  # how many lines were cut to fit

    @property
    def n_lines(self) -> int:
        return self.last_line - self.first_line + 1


def chunk_budget(context: int, reply_tokens: int, prompt_overhead: int) -> int:
    """Tokens left for the log; at least 1 is required."""
    budget = context - reply_tokens - prompt_overhead
    if budget < 1:
        raise ValueError(f"no room for the log: context {context} − reply {reply_tokens} − prompt {prompt_overhead}")
    return budget


def cut_line(line: str, budget: int, count: Callable[[str], int]) -> str:
    """The longest prefix of line that, with its cut marker, fits budget tokens."""
    lo, hi = 0, len(line)
    best = CUT_MARKER.format(n=len(line)).strip()
    while lo <= hi:  # binary search on characters: token counts grow with prefix length
        mid = (lo + hi) // 2
        candidate = line[:mid] + CUT_MARKER.format(n=len(line) - mid)
        if count(candidate) <= budget:
            best, lo = candidate, mid + 1
        else:
            hi = mid - 1
    return best


def chunk_lines(
    lines: Sequence[str], count: Callable[[str], int], budget: int, *, first_line: int = 1
) -> Iterator[Chunk]:
    """Yield chunks covering every line in order; each chunk's text counts ≤ budget tokens."""
    start = 0
    index = 0
    while start < len(lines):
        texts: list[str] = []
        used = 0
        cut = 0
        end = start
        while end < len(lines):
            line = lines[end]
            cost = count(line) + (1 if texts else 0)  # the joining newline
            if not texts and cost > budget:
                line = cut_line(line, budget, count)
                cost = count(line)
                cut += 1
            elif used + cost > budget:
                break
            texts.append(line)
            used += cost
            end += 1
        # Exact count of the joined text; drop lines from the end while it is over.
        text = "\n".join(texts)
        n_tokens = count(text)
        while n_tokens > budget and len(texts) > 1:
            texts.pop()
            end -= 1
            text = "\n".join(texts)
            n_tokens = count(text)
        yield Chunk(index, first_line + start, first_line + end - 1, text, n_tokens, cut)
        start = end
        index += 1


def line_chunks(lines: Sequence[str], per_chunk: int, *, first_line: int = 1) -> Iterator[Chunk]:
    """Chunks of `per_chunk` lines each (the model-free analyst has no token budget); n_tokens is 0."""
    for index, start in enumerate(range(0, len(lines), per_chunk)):
        part = lines[start : start + per_chunk]
        yield Chunk(index, first_line + start, first_line + start + len(part) - 1, "\n".join(part), 0, 0)
