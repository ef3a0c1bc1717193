"""Marks and export in a tab: `m` marks a line, `'` / `` ` `` jump between marks, `M` analyses the marked
range, `X` writes the lines shown (or the marked range) to a file.

A mixin of `LogTab` (logpt_tui/explorer/tab.py). Marks are 0-based lines kept sorted; they are saved per
file (by its resolved path) in the user's state dir, so they survive reopening the file, and are dropped
when it is truncated or rotated (the lines they named are gone). The marked range runs from the first mark
to the last (with one mark: from it to the current line). Exports go to the user's data dir unless the
prompt is given another path; a `.json` / `.jsonl` name writes JSON lines with the line number, the file
(and its own line number in a merged view), the template when mined and the flag when flagged.
"""

from __future__ import annotations

import contextlib
import json
import time
from bisect import bisect_left, bisect_right, insort
from collections.abc import Sequence
from pathlib import Path

import platformdirs

from engine.analysis.queries import QUERIES
from engine.errors import LogptError
from engine.sidefiles import read_json, write_replacing
from logpt_tui.explorer.flagset import cache_key
from logpt_tui.explorer.settings import BATCH
from logpt_tui.explorer.state import TabState, TemplateState
from logpt_tui.terminal import visible

QUERY_NAMES = {q.name for q in QUERIES}


def marks_file(path: Path) -> Path:
    return Path(platformdirs.user_state_dir("logpt")) / "marks" / f"{cache_key(path)}.json"


def exports_dir() -> Path:
    return Path(platformdirs.user_data_dir("logpt")) / "exports"


def export_problem(target: Path, viewed: Sequence[Path]) -> str | None:
    """Why an export may not write `target`: it is a log being viewed (by any name or link), or an existing
    thing that is not a regular file (a FIFO would block the explorer, a device or folder is not a file)."""
    try:
        if not (target.exists() or target.is_symlink()):
            return None
        if any(p.exists() and target.samefile(p) for p in viewed):
            return f"{target} is the log being viewed"
        if not target.is_file():
            return f"{target} is not a regular file"
    except OSError as e:
        return str(e)
    return None


class MarksMixin:
    state: TabState  # its marks

    # ---- marks: m, ' and `, saved per file ----

    def load_marks(self) -> None:
        try:
            saved = read_json(marks_file(self.path), "marks", "")
            self.state.marks = sorted({int(m) for m in saved.get("marks", []) if isinstance(m, int) and m >= 0})
        except (LogptError, AttributeError, TypeError):  # none saved, or unreadable: no marks
            self.state.marks = []
        self.view.marked = self.state.marks

    def save_marks(self) -> None:
        target = marks_file(self.path)
        with contextlib.suppress(OSError):  # a read-only state dir: marks last this session only
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps({"path": str(self.path), "marks": self.state.marks}), encoding="utf-8")

    def forget_marks(self) -> None:
        """The file was truncated or replaced: the marked lines are gone."""
        if self.state.marks:
            self.state.marks.clear()
            self.save_marks()

    def action_mark(self) -> None:
        line = self.view.current if self.view.current is not None else self.anchor_line()
        if not 0 <= line < len(self.source):
            return
        if line in self.state.marks:
            self.state.marks.remove(line)
            self.notify(f"mark removed from line {line + 1}", timeout=2)
        else:
            insort(self.state.marks, line)
            self.notify(
                f"line {line + 1} marked ({len(self.state.marks)} marks; ' / ` jump, M analyses the range)", timeout=3
            )
        self.save_marks()
        self.view.refresh()

    def action_next_mark(self, step: int) -> None:
        if not self.state.marks:
            self.notify("no marks: m marks the current line", timeout=2)
            return
        here = self.view.current if self.view.current is not None else self.anchor_line()
        if step > 0:
            i = bisect_right(self.state.marks, here)
            target = self.state.marks[i % len(self.state.marks)]
        else:
            i = bisect_left(self.state.marks, here) - 1
            target = self.state.marks[i]  # -1 wraps to the last
        self.view.show_line(target)

    def marked_range(self) -> tuple[int, int] | None:
        """(first, stop) of the marked range, 0-based; None without marks."""
        if not self.state.marks:
            return None
        if len(self.state.marks) == 1:
            here = self.view.current if self.view.current is not None else self.anchor_line()
            first, last = sorted((self.state.marks[0], max(here, 0)))
        else:
            first, last = self.state.marks[0], self.state.marks[-1]
        return first, min(last + 1, len(self.source))

    def action_analyze_marked(self, query: str = "root_cause") -> None:
        """The marked range, analysed by the analyst (it reads every line, however many)."""
        span = self.marked_range()
        if span is None or query not in QUERY_NAMES:
            self.notify("no marks: m marks the first and the last line of a range", timeout=3)
            return
        start, stop = span
        found = self.state.flags.found
        flagged = {line + 1: found.by_line[line].reason for line in found.lines if start <= line < stop}
        lines = self.source.block(start, stop)
        self.panel.request((start, f"{query}:{stop}"), 0, lines, flagged, self.app.analyst)  # type: ignore[attr-defined]

    # ---- export: the lines shown, or the marked range ----

    def action_export(self, what: str = "shown") -> None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        name = Path(self.display_name).name.replace(" ", "_").replace(":", "")
        default = exports_dir() / f"{name}.{what}-{stamp}.log"
        self.state.search.export, self.state.search.replace = what, ""
        self.open_prompt("export", f"export the {what} lines to (a .json or .jsonl name writes JSON lines; Esc)")
        self.prompt.value = str(default)

    def export_rows(self, what: str) -> list[int] | range:
        if what == "marked":
            span = self.marked_range()
            return range(*span) if span else range(0)
        rows = self.state.rows()
        return range(len(self.source)) if rows is None else list(rows)

    def export_to(self, value: str) -> None:
        what = self.state.search.export
        target = Path(value.strip()).expanduser()
        rows = self.export_rows(what)
        if not value.strip() or not len(rows):
            self.notify(f"nothing to export: no {what} lines", timeout=3)
            return
        problem = export_problem(target, self.source.paths)
        if problem is not None:
            self.notify(visible(f"cannot export: {problem}"), severity="error", markup=False)
            return
        if target.exists() and self.state.search.replace != str(target):  # ask once; Enter again replaces it
            self.state.search.replace = str(target)
            self.open_prompt("export", f"{target.name} exists: Enter replaces it, Esc keeps it")
            self.prompt.value = value
            return
        self.state.search.replace = ""
        try:
            count = write_replacing(target, lambda out: self.write_rows(out, rows, as_json=target.suffix in (".json", ".jsonl")))
        except OSError as e:
            self.notify(visible(f"cannot export: {e}"), severity="error", markup=False)
            return
        self.notify(visible(f"exported {count:,} line{'s' if count != 1 else ''} to {target}"), timeout=6, markup=False)

    def write_rows(self, out: object, rows: list[int] | range, *, as_json: bool) -> int:
        """Write `rows` (0-based lines, ascending) as they are or as JSON lines; returns how many."""
        count, texts = 0, self.state.templates
        for k in range(0, len(rows), BATCH):
            part = rows[k : k + BATCH]
            dense = part[-1] + 1 - part[0] <= 4 * len(part)  # one read for the span, else line by line
            span = self.source.block(part[0], part[-1] + 1) if dense else None
            for line in part:
                text = span[line - part[0]] if span is not None else self.source.line(line)
                if not as_json:
                    out.write(text + "\n")  # type: ignore[attr-defined]
                else:
                    out.write(json.dumps(self.row_record(line, text, texts)) + "\n")  # type: ignore[attr-defined]
                count += 1
        return count

    def row_record(self, line: int, text: str, texts: TemplateState) -> dict:
        record: dict[str, object] = {"line": line + 1, "source": str(self.path), "text": text}
        if self.source.names is not None:  # a merged view: the row's own file and line
            k, own = self.source.origin(line)
            record["source"], record["source_line"] = str(self.source.paths[k]), own + 1
        template = texts.template_of(line)
        if template is not None:
            record["template"] = template
        flag = self.state.flags.found.get(line)
        if flag is not None:
            record["flag"] = {"reason": flag.reason, "template": flag.template}
        return record
