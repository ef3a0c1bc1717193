"""The whole file as one incident timeline: a map over chunk digests and a reduce into episodes.

Each chunk of `chunk_lines` lines gets its digest (`engine.analysis.digest`); the reduce merges what
the digests found — knowledge-base signatures, and error templates no signature explains — into
episodes (first line and time, count, the chunk it was last seen in), then writes when the trouble
started, the likely cause (the earliest specific signature that is not a symptom: a restart loop
follows the error that crashes the service), what followed in order, and what stopped before the
end of the file and what was still going on. Deterministic, model-free, and it reads the file once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from engine.analysis.chunker import line_chunks
from engine.analysis.digest import Mining, build_digest
from engine.logs.formats import detect_format
from engine.logs.formats.record import LEVEL_RANK
from engine.logs.formats.spec import LogFormat

CHUNK_LINES = 500  # lines per digest: the timeline's resolution for "last seen" …
MAX_CHUNKS = 400  # … made coarser on big files, so that their digests stay few
MAX_EPISODES = 15  # shown in order; the rest are counted


@dataclass
class Episode:
    key: str  # a signature id, or "template:" + the template
    title: str
    first_line: int
    first_time: str | None
    example: str
    count: int
    last_seen: tuple[int, int]  # the lines of the last chunk it occurred in
    signature: bool  # a knowledge-base signature (else an error template none explains)
    cause: bool  # a specific signature that is not a symptom


def episodes_of(
    lines: Sequence[str],
    *,
    first_line: int = 1,
    chunk_lines: int = CHUNK_LINES,
    fmt: LogFormat | None = None,
    on_chunk: Callable[[int, int], None] = lambda _done, _total: None,
    cancelled: Callable[[], bool] = lambda: False,
) -> list[Episode]:
    """Every episode of the lines, in order of first appearance (of the lines read when `cancelled()` turns true)."""
    fmt = fmt or detect_format(lines[:200]).format
    found: dict[str, Episode] = {}
    mining = Mining()
    chunk_lines = max(chunk_lines, -(-len(lines) // MAX_CHUNKS))
    total = -(-len(lines) // chunk_lines)
    for n, chunk in enumerate(line_chunks(lines, chunk_lines, first_line=first_line), 1):
        if cancelled():
            break
        digest = build_digest(
            chunk.text.split("\n"), first_line=chunk.first_line, fmt=fmt, entities=False, mining=mining
        )
        span = (chunk.first_line, chunk.last_line)
        for s in digest.signatures:
            _merge(
                found, s.id, s.title, s.first_line, s.example, s.count, span, fmt, True, not (s.generic or s.symptom)
            )
        for t in digest.problems:
            if t.signature is None and LEVEL_RANK.get(t.level or "", 0) >= LEVEL_RANK["ERROR"]:
                example = lines[t.first_line - first_line]
                _merge(found, f"template:{t.template}", f"{t.level} `{t.template}`", t.first_line, example, t.count,
                       span, fmt, False, False)  # fmt: skip
        on_chunk(n, total)
    return sorted(found.values(), key=lambda e: e.first_line)


def _merge(found: dict[str, Episode], key: str, title: str, line: int, example: str, count: int,
           span: tuple[int, int], fmt: LogFormat, signature: bool, cause: bool) -> None:  # fmt: skip
    episode = found.get(key)
    if episode is None:
        record = fmt.parse(example, line)
        time = record.timestamp if record is not None else None
        found[key] = Episode(key, title, line, time, example, count, span, signature, cause)
    else:
        episode.count += count
        episode.last_seen = span


def timeline(episodes: Sequence[Episode], first_line: int, last_line: int) -> str:
    """The episodes as a Markdown incident timeline."""
    out = ["## Incident timeline", f"Lines {first_line}–{last_line}."]
    if not episodes:
        return "\n".join([*out, "", "No errors or known failure signatures in these lines."])
    first = episodes[0]
    cause = next((e for e in episodes if e.cause), None) or next((e for e in episodes if e.signature), first)
    out += ["", f"**Started:** line {first.first_line}{_at(first)} — {first.title}"]
    if cause is not first:
        why = " (it is specific and not a symptom; what came before it may be its early signs)" if cause.cause else ""
        out.append(f"**Likely cause:** {cause.title}, from line {cause.first_line}{_at(cause)}{why}")
    else:
        out.append(f"**Likely cause:** {cause.title}")
    out += ["", "### In order"]
    for e in episodes[:MAX_EPISODES]:
        name = f"**{e.title}**" if e.signature else e.title
        out.append(f"- line {e.first_line}{_at(e)}: {name} — {e.count} line{'s' if e.count != 1 else ''}, "
                   f"last seen in lines {e.last_seen[0]}–{e.last_seen[1]}")  # fmt: skip
    if len(episodes) > MAX_EPISODES:
        out.append(f"- … and {len(episodes) - MAX_EPISODES} more")
    end = max(e.last_seen[1] for e in episodes)
    stopped = [e for e in episodes if e.last_seen[1] < end]
    going = [e for e in episodes if e.last_seen[1] == end]
    if stopped:
        out += ["", "### Stopped before the end"]
        out += [f"- {e.title}: not after line {e.last_seen[1]}" for e in stopped[:MAX_EPISODES]]
    if going:
        out += ["", "### Still going at the end"]
        out += [f"- {e.title}" for e in going[:MAX_EPISODES]]
    return "\n".join(out)


def _at(e: Episode) -> str:
    return f" ({e.first_time})" if e.first_time else ""
