"""What a digest model reads of a chunk that is bigger than its context: the lines that matter.

A digest model's chunk is a span of lines (`MODEL_CHUNK_LINES`), not of
tokens: its digest counts every line, and the prompt's log section holds the
whole chunk when it fits the log budget, else an excerpt — the lines the
digest cites (each signature's, flagged line's, problem's and top template's
first line), then the lines nearest to them, in file order, each gap said as
`[N lines not shown]`. An incident of tens of lines is thus analysed as one,
however many tokens a line of that log costs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from engine.analysis.chunker import cut_line
from engine.analysis.digest import Digest

GAP = "[{n} lines not shown]"
LONGEST_SHARE = 4  # a line shown in an excerpt takes at most a quarter of the budget (the rest is cut)


def cited_lines(digest: Digest) -> list[int]:
    """Line numbers the digest points at, most important first: signatures, flags, problems, top templates."""
    cited = [s.first_line for s in digest.signatures]
    cited += [f.line for f in digest.flagged]
    cited += [t.first_line for t in digest.problems]
    cited += [t.first_line for t in digest.templates[:3]]
    return list(dict.fromkeys(cited))


def render_excerpt(lines: Sequence[str], shown: set[int]) -> str:
    """The shown lines (0-based indexes) in order, a gap line for each run of lines left out."""
    out: list[str] = []
    skipped = 0
    for i, line in enumerate(lines):
        if i in shown:
            if skipped:
                out.append(GAP.format(n=skipped))
            out.append(line)
            skipped = 0
        else:
            skipped += 1
    if skipped:
        out.append(GAP.format(n=skipped))
    return "\n".join(out)


def excerpt(lines: Sequence[str], first_line: int, digest: Digest, count: Callable[[str], int], budget: int) -> str:
    """The chunk's text when it fits `budget` tokens, else its excerpt (see the module's doc)."""
    whole = "\n".join(lines)
    if count(whole) <= budget:
        return whole
    longest = max(1, budget // LONGEST_SHARE)
    fitted = [line if count(line) <= longest else cut_line(line, longest, count) for line in lines]
    cited = [n - first_line for n in cited_lines(digest) if 0 <= n - first_line < len(lines)]
    is_cited = set(cited)
    order = cited + sorted(
        (i for i in range(len(lines)) if i not in is_cited),
        key=lambda i: (min((abs(i - c) for c in cited), default=0), i),
    )
    shown: set[int] = set()
    gap_cost = count(GAP.format(n=len(lines))) + 1
    used = 0
    for i in order:
        cost = count(fitted[i]) + 1 + gap_cost  # the line, its newline, and a gap it may open
        if used + cost <= budget:
            shown.add(i)
            used += cost
    text = render_excerpt(fitted, shown)
    while shown and count(text) > budget:  # estimates are per line: trim until the exact count fits
        shown.discard(max(shown, key=lambda i: (i not in is_cited, order.index(i))))
        text = render_excerpt(fitted, shown)
    return text
