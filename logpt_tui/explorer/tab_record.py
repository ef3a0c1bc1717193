"""The record under the cursor, whole, in the side panel (`v`): a JSON record pretty-printed with its fields,
a logfmt record as a field table, any other record's header fields and message, and a multi-line record (a
stack trace) with every line of it. In a followed stream (a `logpt ship` stream, its flags or its incidents)
`o` shows the row's own lines in its source file, SOURCE_CONTEXT lines either side, read from that file
where it is on this machine (each source indexed once, in a worker, and refreshed as it grows).

A mixin of `LogTab` (logpt_tui/explorer/tab.py); the work is engine/logs/recordview.py. Values are log text:
they are shown in code spans and fences (never parsed as Markdown) and made terminal-safe by the panel.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual import work

from engine.errors import LogptError
from engine.logs.formats.detect import SAMPLE_LINES
from engine.logs.logsource import LogSource
from engine.logs.recordview import RecordFields, record_fields, record_span
from logpt_tui.explorer.settings import SOURCE_CONTEXT
from logpt_tui.terminal import visible

if TYPE_CHECKING:
    from engine.logs.formats.spec import LogFormat

MAX_VALUE = 300  # characters of a field's value in the table (the pretty JSON below has it whole)


def fence(text: str) -> str:
    """A fenced block that the text cannot close."""
    ticks = "`" * max(3, max((len(run) for run in text.split("\n") if set(run) == {"`"}), default=0) + 1)
    ticks = "~~~~" if "```" in text else ticks
    return f"{ticks}\n{text}\n{ticks}"


def cell(value: str) -> str:
    value = value.replace("\n", " ⏎ ")
    value = value[:MAX_VALUE] + ("…" if len(value) > MAX_VALUE else "")
    return value.replace("|", "\\|").replace("`", "'")


def source_markdown(lines: list[str], first: int, target: int) -> str:
    """Lines of a source file numbered from `first` (1-based), the row's own line `target` marked."""
    width = len(str(first + len(lines) - 1))
    numbered = [f"{'▶' if first + i == target else ' '} {first + i:>{width}}  {text}" for i, text in enumerate(lines)]
    return fence("\n".join(numbered))


def as_markdown(found: RecordFields, first: int, stop: int) -> str:
    lines = [f"**{found.kind}** record, line {first + 1}" + (f"–{stop}" if stop > first + 1 else ""), ""]
    if found.fields:
        lines += ["| field | value |", "|---|---|"]
        lines += [f"| `{cell(name)}` | `{cell(value)}` |" for name, value in found.fields]
    if found.pretty:
        lines += ["", fence(found.pretty)]
    if found.extra:
        lines += [
            "",
            f"{len(found.extra)} more line{'s' if len(found.extra) != 1 else ''}:",
            "",
            fence("\n".join(found.extra)),
        ]
    return "\n".join(lines)


class RecordMixin:
    def action_record(self) -> None:
        line = self.view.current if self.view.current is not None else self.anchor_line()
        total = len(self.source)
        if not 0 <= line < total:
            return
        fmt = self.record_format()
        first, stop = record_span(self.source.line, line, total, fmt)
        lines = self.source.block(first, stop)
        found = record_fields(lines, fmt)
        self.panel.show_markdown("Record", f"line {first + 1}", as_markdown(found, first, stop))

    def action_source_lines(self) -> None:
        """`o`: the cursor's row of a followed stream in its source file, with the lines around it."""
        origins = self.view.origins
        origin = origins.of(self.anchor_line()) if origins is not None else None
        if origin is None:
            self.notify("o shows a stream row's source lines: this row names no source file and line", timeout=4)
            return
        self.show_source_lines(*origin)

    @work(thread=True, exclusive=True, group="source-lines", exit_on_error=False)
    def show_source_lines(self, name: str, line: int) -> None:
        sources: dict[str, LogSource] = self.state.sources
        try:
            if name not in sources:
                sources[name] = LogSource(Path(name))
                sources[name].index()
            else:
                sources[name].refresh()
            source = sources[name]
        except (LogptError, OSError) as e:  # not on this machine, unreadable, binary: one line
            self.app.call_from_thread(self.notify, visible(f"{name}: {e}"), severity="warning", markup=False)
            return
        if line > len(source):
            self.app.call_from_thread(self.notify, visible(f"{name} has {len(source):,} lines, not {line:,}"),
                                      severity="warning", markup=False)  # fmt: skip
            return
        first = max(1, line - SOURCE_CONTEXT)
        lines = source.block(first - 1, min(len(source), line + SOURCE_CONTEXT))
        self.app.call_from_thread(self.panel.show_markdown, "Source", f"{name}:{line}",
                                  source_markdown(lines, first, line))  # fmt: skip

    def record_format(self) -> LogFormat:
        """The file's format, detected once from its first lines (TabState.format: the record view, the flag
        engine, the Templates worker and the status bar read the same one)."""
        with self.state.format_lock:  # the index, flag and Templates workers may all ask before it is known
            if self.state.format is None:
                from engine.logs.formats import detect_format  # noqa: PLC0415

                self.state.format = detect_format(self.source.block(0, SAMPLE_LINES)).format
            return self.state.format
