"""Excerpts: a chunk bigger than the log budget shows the lines its digest cites, with the gaps said."""

from __future__ import annotations

from engine.analysis.digest import build_digest
from engine.analysis.excerpt import cited_lines, excerpt


def words(text: str) -> int:
    return len(text.split())  # a stand-in token count: one per word


def incident(n: int = 60) -> list[str]:
    lines = [
        f"2026-11-30T02:{i:02d}:00Z web[7]: INFO served request {i} in {i % 7} ms for client alpha" for i in range(n)
    ]
    if n > 41:
        lines[41] = "2026-11-30T02:41:00Z web[7]: ERROR No space left on device while writing /var/lib/app/cache"
    return lines


def test_a_chunk_that_fits_is_shown_whole() -> None:
    lines = incident(5)
    digest = build_digest(lines)
    assert excerpt(lines, 1, digest, words, 10_000) == "\n".join(lines)


def test_a_big_chunk_shows_the_cited_lines_and_their_neighbours_within_the_budget() -> None:
    lines = incident()
    digest = build_digest(lines, first_line=101)
    assert 142 in cited_lines(digest)  # the error's line, numbered as in the file
    text = excerpt(lines, 101, digest, words, 120)
    assert words(text) <= 120
    shown = text.split("\n")
    assert lines[41] in shown and lines[40] in shown  # the failure and the line before it
    assert any(line.startswith("[") and line.endswith("lines not shown]") for line in shown)
    kept = [line for line in shown if not line.startswith("[")]
    assert kept == [line for line in lines if line in kept]  # file order
    gaps = sum(int(line.split()[0][1:]) for line in shown if line.startswith("["))
    assert gaps + len(kept) == len(lines)  # every line is shown or counted in a gap


def test_an_enormous_line_is_cut_not_dropped() -> None:
    lines = incident(10)
    lines[3] = "ERROR " + "x " * 5000
    digest = build_digest(lines)
    text = excerpt(lines, 1, digest, words, 200)
    assert words(text) <= 200 and "ERROR x" in text and "cut" in text
