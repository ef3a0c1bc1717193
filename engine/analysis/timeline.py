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
    # The cause finder's reading of the chunk it was first found in (engine.analysis.cause), for the chunk's
    # first episode: the onset of the trouble (0: none before it) and the first hint the software wrote.
    onset_line: int = 0
    onset_text: str = ""
    hint_line: int = 0
    hint_text: str = ""


class TimelineMap:
    """The map, fed consecutive lines in file order: each chunk's digest folded into episodes.

    `feed` takes the next lines in any amounts (a block read from disk) and maps every whole chunk of
    `chunk_lines`; `close` maps what is left. `on_episode` hears of each episode when it is first found,
    in file order, so a caller can stream the timeline's "in order" list while the rest of the file is
    read. `absorb` folds in the episodes another map found in the lines after these (a worker process
    reading the file's second half).
    """

    def __init__(
        self,
        fmt: LogFormat,
        chunk_lines: int = CHUNK_LINES,
        on_episode: Callable[[Episode], None] | None = None,
        *,
        first_line: int = 1,
    ) -> None:
        self.fmt, self.chunk_lines = fmt, chunk_lines
        self.found: dict[str, Episode] = {}
        self.mining = Mining()
        self.on_episode = on_episode or (lambda _episode: None)
        self.next_line = first_line  # the number of the next line to map
        self.pending: list[str] = []  # fed lines short of a whole chunk

    def feed(self, lines: Sequence[str]) -> None:
        """Map the next lines: every whole chunk now, the rest with the next feed (or `close`)."""
        pending = self.pending + list(lines) if self.pending else lines
        whole = len(pending) - len(pending) % self.chunk_lines
        for start in range(0, whole, self.chunk_lines):
            self._map(pending[start : start + self.chunk_lines])
        self.pending = list(pending[whole:])

    def close(self) -> None:
        """Map the lines short of a chunk left by the last feed."""
        if self.pending:
            self._map(self.pending)
            self.pending = []

    def _map(self, part: Sequence[str]) -> None:
        first = self.next_line
        digest = build_digest(part, first_line=first, fmt=self.fmt, entities=False, mining=self.mining)
        span = (first, first + len(part) - 1)
        found = [
            Episode(s.id, s.title, s.first_line, None, s.example, s.count, span, True, not (s.generic or s.symptom))
            for s in digest.signatures
        ]
        found += [
            Episode(f"template:{t.template}", f"{t.level} `{t.template}`", t.first_line, None,
                    part[t.first_line - first], t.count, span, False, False)
            for t in digest.problems
            if t.signature is None and LEVEL_RANK.get(t.level or "", 0) >= LEVEL_RANK["ERROR"]
        ]  # fmt: skip
        found.sort(key=lambda e: e.first_line)
        cause = digest.cause
        if found and cause.onset is not None:
            if cause.onset.line < found[0].first_line:
                found[0].onset_line, found[0].onset_text = cause.onset.line, cause.onset.text
            if cause.hints:
                found[0].hint_line, found[0].hint_text = cause.hints[0].line, cause.hints[0].text
        self.absorb(found)  # new ones are heard of in file order
        self.next_line += len(part)

    def absorb(self, later: Sequence[Episode], *, announce: bool = True) -> None:
        """Fold in episodes of the lines after those mapped so far (in order of first line)."""
        for found in later:
            episode = self.found.get(found.key)
            if episode is None:
                if found.first_time is None:
                    record = self.fmt.parse(found.example, found.first_line)
                    found.first_time = record.timestamp if record is not None else None
                self.found[found.key] = found
                if announce:
                    self.on_episode(found)
            else:
                episode.count += found.count
                episode.last_seen = found.last_seen

    def episodes(self) -> list[Episode]:
        return sorted(self.found.values(), key=lambda e: e.first_line)


def chunk_lines_for(total_lines: int, chunk_lines: int = CHUNK_LINES) -> int:
    """Lines per digest for a span of `total_lines`: coarser on big files, so that their digests stay few."""
    return max(chunk_lines, -(-total_lines // MAX_CHUNKS))


def episodes_of(
    lines: Sequence[str],
    *,
    first_line: int = 1,
    chunk_lines: int = CHUNK_LINES,
    fmt: LogFormat | None = None,
    on_chunk: Callable[[int, int], None] = lambda _done, _total: None,
    on_episode: Callable[[Episode], None] | None = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> list[Episode]:
    """Every episode of the lines, in order of first appearance (of the lines read when `cancelled()` turns true);
    `on_episode` hears of each as it is found."""
    fmt = fmt or detect_format(lines[:200]).format
    chunk_lines = chunk_lines_for(len(lines), chunk_lines)
    mapped = TimelineMap(fmt, chunk_lines, on_episode, first_line=first_line)
    total = -(-len(lines) // chunk_lines)
    for n, start in enumerate(range(0, len(lines), chunk_lines), 1):
        if cancelled():
            break
        mapped.feed(lines[start : start + chunk_lines])
        on_chunk(n, total)
    mapped.close()
    return mapped.episodes()


def episode_line(e: Episode) -> str:
    """One episode in the timeline's "in order" list (what a streamed timeline writes as it finds them)."""
    return f"- line {e.first_line}{_at(e)}: {f'**{e.title}**' if e.signature else e.title}"


def timeline_title(first_line: int, last_line: int) -> str:
    return f"## Incident timeline\nLines {first_line}–{last_line}."


IN_ORDER = "\n### In order"  # before the first episode
NOTHING = "\nNo errors or known failure signatures in these lines."


def listing(write: Callable[[str], None]) -> Callable[[Episode], None]:
    """An `on_episode` that writes, line by line as episodes are found, the timeline's list: `IN_ORDER` before
    the first, an `episode_line` for each of the first MAX_EPISODES (after `timeline_title`, and followed by
    `timeline_rest`, what `timeline` returns)."""
    heard = 0

    def on_episode(episode: Episode) -> None:
        nonlocal heard
        heard += 1
        if heard == 1:
            write(IN_ORDER)
        if heard <= MAX_EPISODES:
            write(episode_line(episode))

    return on_episode


def timeline(episodes: Sequence[Episode], first_line: int, last_line: int) -> str:
    """The episodes as a Markdown incident timeline, line by line what a streamed one writes:
    `timeline_title`, `IN_ORDER` and an `episode_line` for each of the first MAX_EPISODES, `timeline_rest`."""
    if not episodes:
        return "\n".join([timeline_title(first_line, last_line), NOTHING])
    listed = [episode_line(e) for e in episodes[:MAX_EPISODES]]
    return "\n".join([timeline_title(first_line, last_line), IN_ORDER, *listed, *timeline_rest(episodes)])


def timeline_rest(episodes: Sequence[Episode]) -> list[str]:
    """After the list: where it started, the likely cause, and each episode's count, stopped or still going."""
    out = [f"- … and {len(episodes) - MAX_EPISODES} more"] if len(episodes) > MAX_EPISODES else []
    first = episodes[0]
    cause = next((e for e in episodes if e.cause), None)
    started = f"line {first.onset_line}: `{first.onset_text}`, before " if first.onset_line else ""
    out += ["", f"**Started:** {started}line {first.first_line}{_at(first)} — {first.title}"]
    if cause is not None:
        why = " (it is specific and not a symptom; what came before it may be its early signs)"
        out.append(f"**Likely cause:** {cause.title}, from line {cause.first_line}{_at(cause)}{why}")
    elif first.onset_line:  # no signature names a cause: the onset of the first episode, as the cause finder reads it
        out.append(f"**Likely cause:** no known signature explains it; the first sign of trouble is line "
                   f"{first.onset_line}: `{first.onset_text}`")  # fmt: skip
    else:
        out.append(f"**Likely cause:** no known signature explains it; the first sign of trouble is {first.title}, "
                   f"line {first.first_line}")  # fmt: skip
    hinted = cause if cause is not None and cause.hint_line else first
    if hinted.hint_line:
        out.append(f"**The software says** (line {hinted.hint_line}): `{hinted.hint_text}`")
    end = max(e.last_seen[1] for e in episodes)
    stopped = [e for e in episodes if e.last_seen[1] < end]
    going = [e for e in episodes if e.last_seen[1] == end]
    if stopped:
        out += ["", "### Stopped before the end"]
        out += [f"- {e.title}: {_lines(e.count)}, not after line {e.last_seen[1]}" for e in stopped[:MAX_EPISODES]]
    if going:
        out += ["", "### Still going at the end"]
        out += [f"- {e.title}: {_lines(e.count)}, last seen in lines {e.last_seen[0]}–{e.last_seen[1]}"
                for e in going[:MAX_EPISODES]]  # fmt: skip
    return out


def _lines(count: int) -> str:
    return f"{count:,} line{'s' if count != 1 else ''}"


def _at(e: Episode) -> str:
    return f" ({e.first_time})" if e.first_time else ""
