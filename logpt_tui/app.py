"""`logpt-tui FILE`: the Textual log explorer.

This version opens one file at its end, indexes it in a worker with progress
in the status bar, renders only visible lines, and follows the file as it
grows, is truncated or rotated: a watchdog observer reports changes at once
(its thread only posts a message), and a slower poll catches what it misses
(network filesystems, observers that fail to start). `f` toggles following;
`/` searches by regex in a worker, `n`/`N` repeat it; `?` shows the keys.
Anomaly flags, chunks and streamed analysis come with later versions.
"""

from __future__ import annotations

import atexit
import os
import re
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Static

from engine.errors import LogptError
from engine.logsource import LogSource
from logpt_tui.messages import FileTouched, IndexProgress, SearchResult, SourceChanged
from logpt_tui.widgets.log_view import LogView

POLL_SECONDS = 1.0  # the fallback when file events do not arrive


class LogptApp(App[None]):
    TITLE = "logpt"
    CSS = """
    LogView { height: 1fr; }
    #status { height: 1; background: $panel; color: $text; padding: 0 1; }
    #search { dock: bottom; display: none; }
    #search.-open { display: block; }
    """
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("f", "toggle_follow", "Follow"),
        Binding("g", "top", "Top"),
        Binding("G", "bottom", "Bottom"),
        Binding("slash", "search", "Search"),
        Binding("n", "search_next", "Next", show=False),
        Binding("N", "search_previous", "Previous", show=False),
        Binding("question_mark", "help", "Keys"),
    ]

    def __init__(self, path: Path, *, poll_seconds: float = POLL_SECONDS, name: str | None = None) -> None:
        super().__init__()
        self.path = path
        self.display_name = name or str(path)
        self.source = LogSource(path)
        self.poll_seconds = poll_seconds
        self.new_since_scroll = 0
        self.indexing = ""
        self._observer: object | None = None
        self.pattern: re.Pattern[str] | None = None

    def compose(self) -> ComposeResult:
        yield LogView(self.source, id="log")
        yield Input(placeholder="regex search (Enter to find, Esc to close)", id="search")
        yield Static(id="status")
        yield Footer()

    @property
    def view(self) -> LogView:
        return self.query_one(LogView)

    def on_mount(self) -> None:
        self.update_status()
        self.index_file()

    @work(thread=True, exclusive=True, group="source")
    def index_file(self) -> None:
        added = self.source.index(lambda done, total: self.post_message(IndexProgress(done, total)))
        self.post_message(SourceChanged("indexed", added))

    @work(thread=True, exclusive=True, group="source")
    def poll_file(self) -> None:
        change = self.source.refresh()
        if change.kind != "none":
            self.post_message(SourceChanged(change.kind, change.new_lines))

    def on_index_progress(self, message: IndexProgress) -> None:
        self.indexing = f"indexing {message.done * 100 // max(message.total, 1)}%"
        self.update_status()

    def on_source_changed(self, message: SourceChanged) -> None:
        if message.kind == "indexed":
            self.indexing = ""
            self.set_interval(self.poll_seconds, self.poll_file)
            self._observer = watch_file(self.path, lambda: self.post_message(FileTouched()))
        if message.kind in ("truncated", "rotated"):
            self.new_since_scroll = 0
        if not self.view.follow:
            self.new_since_scroll += message.new_lines
        self.view.source_changed(message.kind)
        if message.kind in ("truncated", "rotated", "deleted"):
            self.notify(f"{self.path.name} was {message.kind}", timeout=3)
        self.update_status()

    def on_file_touched(self, _message: FileTouched) -> None:
        self.poll_file()

    def update_status(self) -> None:
        parts = [self.display_name, f"{len(self.source):,} lines"]
        if self.indexing:
            parts.append(self.indexing)
        parts.append("following" if self.view.follow else "paused")
        if self.new_since_scroll and not self.view.follow:
            parts.append(f"+{self.new_since_scroll:,} new")
        self.query_one("#status", Static).update(" · ".join(parts))

    def action_toggle_follow(self) -> None:
        self.view.follow = not self.view.follow
        if self.view.follow:
            self.new_since_scroll = 0
            self.view.scroll_end(animate=False)
        self.update_status()

    # ---- search: regex, in a worker, n / N to repeat ----

    def action_search(self) -> None:
        box = self.query_one("#search", Input)
        box.add_class("-open")
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        box = self.query_one("#search", Input)
        box.remove_class("-open")
        self.view.focus()
        try:
            self.pattern = re.compile(event.value)
        except re.error as e:
            self.notify(f"bad regex: {e}", severity="error")
            return
        self.run_search(forward=True, from_current=False)

    def on_key(self, event: object) -> None:
        box = self.query_one("#search", Input)
        if getattr(event, "key", "") == "escape" and box.has_class("-open"):
            box.remove_class("-open")
            self.view.focus()

    def action_search_next(self) -> None:
        self.run_search(forward=True, from_current=True)

    def action_search_previous(self) -> None:
        self.run_search(forward=False, from_current=True)

    def run_search(self, *, forward: bool, from_current: bool) -> None:
        if self.pattern is None:
            self.notify("press / to search first")
            return
        view = self.view
        if from_current and view.current is not None:
            start = view.current + (1 if forward else -1)
        else:
            start = int(view.scroll_offset.y)
        self.search_worker(self.pattern, start, forward)

    @work(thread=True, exclusive=True, group="search")
    def search_worker(self, pattern: re.Pattern[str], start: int, forward: bool) -> None:
        from textual.worker import get_current_worker  # noqa: PLC0415

        worker = get_current_worker()
        line = self.source.find(pattern, start, forward=forward, cancelled=lambda: worker.is_cancelled)
        if not worker.is_cancelled:
            self.post_message(SearchResult(pattern.pattern, line))

    def on_search_result(self, message: SearchResult) -> None:
        if message.line is None:
            self.notify(f"no line matches /{message.pattern}/", severity="warning")
            return
        self.view.show_line(message.line)
        self.update_status()

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_top(self) -> None:
        self.view.follow = False
        self.view.scroll_home(animate=False)
        self.update_status()

    def action_bottom(self) -> None:
        self.view.scroll_end(animate=False)

    def on_unmount(self) -> None:
        if self._observer is not None:
            self._observer.stop()  # type: ignore[attr-defined]
        self.source.close()


class HelpScreen(ModalScreen[None]):
    """The keys, in one place; any key closes it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Static { width: 60; padding: 1 2; background: $panel; border: round $accent; }
    """
    TEXT = """[b]logpt explorer[/b]

  [b]f[/b]        follow the end of the file on / off
  [b]g[/b] / [b]G[/b]    top / bottom
  [b]/[/b]        search by regular expression
  [b]n[/b] / [b]N[/b]    next / previous match
  [b]?[/b]        this help
  [b]q[/b]        quit

Lines stream in as the file grows; truncation and rotation
are followed. Escape sequences in the log are shown as ^[.
Press any key to close."""

    def compose(self) -> ComposeResult:
        yield Static(self.TEXT)

    def on_key(self) -> None:
        self.dismiss()


def watch_file(path: Path, touched: Callable[[], None]) -> object | None:
    """A watchdog observer on the file's directory calling `touched` for events on the file; None if it cannot start."""
    from watchdog.events import FileSystemEvent, FileSystemEventHandler  # noqa: PLC0415
    from watchdog.observers import Observer  # noqa: PLC0415

    target = str(path.resolve())

    class Handler(FileSystemEventHandler):
        def on_any_event(self, event: FileSystemEvent) -> None:
            paths = {str(event.src_path), str(getattr(event, "dest_path", "") or "")}
            if target in paths:
                touched()

    observer = Observer()
    try:
        observer.schedule(Handler(), str(path.resolve().parent), recursive=False)
        observer.daemon = True
        observer.start()
    except OSError:  # e.g. out of inotify watches: the poll still follows the file
        return None
    return observer


def spool_stdin() -> Path:
    """Copy piped stdin into a temporary file in a thread, and give the terminal back to stdin.

    The explorer then follows the file like any other log; keys come from /dev/tty.
    """
    try:
        tty = os.open("/dev/tty", os.O_RDONLY)
    except OSError:
        raise LogptError("reading a pipe needs a terminal for the keys", "run logpt-tui from a terminal") from None
    pipe = os.dup(0)
    os.dup2(tty, 0)
    os.close(tty)
    handle, name = tempfile.mkstemp(prefix="logpt-stdin-", suffix=".log")

    def copy() -> None:
        with os.fdopen(pipe, "rb", buffering=0) as source, os.fdopen(handle, "wb", buffering=0) as target:
            while chunk := source.read(1 << 16):
                target.write(chunk)

    threading.Thread(target=copy, name="stdin-spool", daemon=True).start()
    atexit.register(lambda: Path(name).unlink(missing_ok=True))
    return Path(name)


def main(argv: list[str] | None = None) -> None:
    """Entry point of `logpt-tui FILE` (or `cmd | logpt-tui -`)."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] in ("-h", "--help"):
        print("usage: logpt-tui FILE | cmd | logpt-tui -\n\nOpen a log in the logpt explorer (q quits, ? lists keys).")
        sys.exit(0 if args and args[0] in ("-h", "--help") else 2)
    try:
        path = spool_stdin() if args[0] == "-" else Path(args[0])
        app = LogptApp(path, name="stdin" if args[0] == "-" else None)
    except LogptError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    app.run()


if __name__ == "__main__":
    main()
