"""`logpt analyze --whole`: the incident timeline of a file (or a --lines span), streamed as it is found.

The timeline's head and each episode's line are written the moment the map finds them (in file order);
where it started, the likely cause and what stopped or goes on follow when every line is read. The
text is exactly `timeline()`'s. A file on disk is read block by block, never whole, and a big one is
mapped by two or more processes (`engine.analysis.wholefile`); stdin and a `--lines` span are mapped
from memory. `--json` writes one object at the end.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from engine.errors import InputError
from engine.logs.formats import detect_format
from engine.logs.textio import SNIFF_BYTES, check_regular, decode_log, open_error, split_lines
from logpt_tui.cli.console import err, visible, write_raw

if TYPE_CHECKING:  # the timeline reads the knowledge base: loaded when `--whole` runs, not at `logpt --help`
    from engine.analysis.timeline import Episode

    Mapper = Callable[[Callable[[Episode], None], Callable[[int, int], None]], list[Episode]]


def whole_from_file(path: Path, chunk_lines: int, *, as_json: bool) -> None:
    """The timeline of every line of a file on disk: read in blocks, a big file by several processes."""
    from engine.analysis.timeline import CHUNK_LINES, chunk_lines_for  # noqa: PLC0415
    from engine.analysis.wholefile import PARALLEL_BYTES, map_file, scan, workers  # noqa: PLC0415

    check_regular(path)
    try:
        with path.open("rb") as f:
            head = f.read(SNIFF_BYTES)
        spans = scan(path, workers() if path.stat().st_size >= PARALLEL_BYTES else 1)
    except OSError as e:
        raise open_error(path, e) from None
    if not spans:
        raise InputError(f"{path} is empty", "nothing to analyse")
    fmt = detect_format(split_lines(decode_log(head, source=str(path)))[:200]).format  # binary refused here
    total = sum(s.lines for s in spans)
    per_chunk = chunk_lines_for(total, max(chunk_lines, CHUNK_LINES))
    write_timeline(
        1, total, as_json=as_json,
        mapper=lambda on_episode, on_progress: map_file(spans, fmt, per_chunk, on_episode=on_episode,
                                                        on_progress=on_progress),
    )  # fmt: skip


def whole_from_lines(lines: list[str], first: int, last: int, chunk_lines: int, *, as_json: bool) -> None:
    """The timeline of lines first..last (1-based) of a log held in memory (stdin, or a --lines span)."""
    from engine.analysis.timeline import CHUNK_LINES, chunk_lines_for, episodes_of  # noqa: PLC0415

    part = lines[first - 1 : last]
    per_chunk = max(chunk_lines, CHUNK_LINES)
    write_timeline(
        first, last, as_json=as_json,
        mapper=lambda on_episode, on_progress: episodes_of(
            part, first_line=first, chunk_lines=per_chunk, on_episode=on_episode,
            on_chunk=lambda done, total: on_progress(min(len(part), done * chunk_lines_for(len(part), per_chunk)),
                                                     len(part))),
    )  # fmt: skip


def write_timeline(first: int, last: int, *, as_json: bool, mapper: Mapper) -> None:
    """Run the map with a progress bar; in text, write the timeline as it is found."""
    from engine.analysis.timeline import NOTHING, listing, timeline, timeline_rest, timeline_title  # noqa: PLC0415

    to_terminal = sys.stdout.isatty()
    # On a terminal the bar and the text share stdout (Rich prints the text above the bar); piped, the text
    # goes to stdout as it comes and the bar to stderr.
    console = Console(file=sys.stdout, highlight=False) if to_terminal else err

    def emit(text: str) -> None:
        if as_json:
            return
        if to_terminal:
            console.print(Text(visible(text)), soft_wrap=True)
        else:
            write_raw(text + "\n")

    columns = (TextColumn("mapping"), BarColumn(), MofNCompleteColumn(), TextColumn("lines"), TimeElapsedColumn())
    emit(timeline_title(first, last))
    with Progress(*columns, console=console, transient=True, disable=as_json) as progress:
        task = progress.add_task("", total=last - first + 1)
        found = mapper(listing(emit), lambda done, total: progress.update(task, completed=done, total=total))
    if as_json:
        text = timeline(found, first, last)
        print(json.dumps({"type": "timeline", "first_line": first, "last_line": last, "text": text,
                          "episodes": [asdict(e) for e in found]}))  # fmt: skip
        return
    for line in timeline_rest(found) if found else [NOTHING]:
        emit(line)
