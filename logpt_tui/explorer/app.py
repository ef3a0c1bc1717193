"""`logpt-tui FILE [FILE…]`: the Textual log explorer.

The app is a shell around one `LogTab` per file (tabs appear when there are
several; `Tab` / `Shift+Tab` switch): it loads the analysis model once, in a
worker, so the explorer opens without torch, and hands it to every tab; it
owns the help screen, the command palette entries and the theme. Everything
about a file (following, search, filters, flags, chunks, the analysis panel)
lives in the tab: see logpt_tui/explorer/tab.py.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import platformdirs
from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.content import Content
from textual.screen import Screen
from textual.widgets import TabbedContent, TabPane
from textual.worker import Worker, WorkerState

from engine.errors import LogptError
from engine.logs.logsource import LogSource
from engine.logs.merged import MergedSource
from engine.sidefiles import read_json
from logpt_tui.explorer.backend import LOADING, AnalystBackend, Backend, ModelBackend
from logpt_tui.explorer.flagset import FlagEngine
from logpt_tui.explorer.follow import CLEANUPS, spool_stdin, system_log
from logpt_tui.explorer.keys import bindings, palette_commands
from logpt_tui.explorer.messages import BackendReady
from logpt_tui.explorer.redis_stream import is_stream_url, spool_stream
from logpt_tui.explorer.screens import HelpScreen
from logpt_tui.explorer.settings import POLL_SECONDS
from logpt_tui.explorer.tab import LogTab
from logpt_tui.explorer.widgets.footer import KeyBar
from logpt_tui.explorer.widgets.log_view import LogView
from logpt_tui.terminal import visible

ENGINES = ("auto", "model", "analyst")
DEFAULT = object()  # backend: the registry's default model; flags: a detector cached or trained for each file
DEFAULT_THEME = "textual-dark"


def settings_path() -> Path:
    return Path(platformdirs.user_config_dir("logpt")) / "tui.json"


class LogptApp(App[None]):
    TITLE = "logpt"
    AUTO_FOCUS = "LogView"
    CSS = """
    TabbedContent, TabPane { height: 1fr; padding: 0; }
    """
    BINDINGS = bindings("app")  # logpt_tui/explorer/keys.py

    def __init__(
        self,
        paths: Path | Sequence[Path],
        *,
        name: str | Sequence[str | None] | None = None,
        poll_seconds: float = POLL_SECONDS,
        backend: object = DEFAULT,
        engine: str = "model",
        flags: object = DEFAULT,
        theme: str | None = None,
        settings: Path | None = None,
        merge: bool = False,
    ) -> None:
        super().__init__()
        self.paths = [paths] if isinstance(paths, Path) else list(paths)
        names = [name] if name is None or isinstance(name, str) else list(name)
        self.names = (names * len(self.paths))[: len(self.paths)] if len(names) == 1 else names
        if flags is not DEFAULT and flags is not None and len(self.paths) > 1:
            raise ValueError("a FlagEngine serves one file: pass DEFAULT or None with several files")
        self.flags_arg = flags
        self.sources: list[LogSource | MergedSource]
        if merge:  # one tab: the files interleaved by time (opening fails here, with a one-line error)
            merged = MergedSource(self.paths)
            self.sources, self.paths, self.names = [merged], [merged.path], [merged.path.name]
        else:
            self.sources = [LogSource(path) for path in self.paths]  # opening fails here, with a one-line error
        self.poll_seconds = poll_seconds
        if engine not in ENGINES:
            raise LogptError(f"unknown engine {engine!r}", f"use one of: {', '.join(ENGINES)}")
        self.engine = engine  # model: the model only; analyst: the analyst only; auto: the model, else the analyst
        self.backend: Backend | None = ModelBackend() if backend is DEFAULT else backend  # type: ignore[assignment]
        if engine == "analyst":
            self.backend = None
        self.analyst = AnalystBackend()
        self.model_loaded = False
        self.model_state = LOADING if self.backend is not None else "no model"
        self.settings = settings  # where the chosen theme is remembered; None: nowhere (tests)
        if theme is not None and theme not in self.available_themes:
            raise LogptError(f"unknown theme {theme!r}", f"try one of: {', '.join(sorted(self.available_themes))}")
        self.theme = theme or self.saved_theme() or DEFAULT_THEME

    def saved_theme(self) -> str | None:
        if self.settings is None:
            return None
        try:
            theme = read_json(self.settings, "settings", "").get("theme")
        except (LogptError, AttributeError):  # a broken settings file costs the saved theme, nothing else
            return None
        return theme if isinstance(theme, str) and theme in self.available_themes else None

    def watch_theme(self, theme: str) -> None:
        if self.settings is not None and self.is_running:
            try:
                self.settings.parent.mkdir(parents=True, exist_ok=True)
                self.settings.write_text(json.dumps({"theme": theme}), encoding="utf-8")
            except OSError:  # a read-only config dir: the theme is just not remembered
                pass

    def make_tab(self, i: int) -> LogTab:
        flags = FlagEngine(self.paths[i]) if self.flags_arg is DEFAULT else self.flags_arg
        return LogTab(self.sources[i], name=self.names[i], poll_seconds=self.poll_seconds, flags=flags,  # type: ignore[arg-type]
                      model_state=self.model_state)  # fmt: skip

    def compose(self) -> ComposeResult:
        if len(self.paths) == 1:
            yield self.make_tab(0)
        else:
            with TabbedContent():
                for i, path in enumerate(self.paths):
                    label = visible(self.names[i] and Path(self.names[i]).name or path.name)
                    with TabPane(Content(label), id=f"file-{i}"):  # a file name is text, never markup
                        yield self.make_tab(i)
        yield KeyBar()

    @property
    def tabs(self) -> list[LogTab]:
        return list(self.query(LogTab))

    @property
    def tab(self) -> LogTab:
        """The tab on screen."""
        if len(self.paths) == 1:
            return self.query_one(LogTab)
        contents = self.query_one(TabbedContent)
        return contents.get_pane(contents.active).query_one(LogTab)

    @property
    def view(self) -> LogView:
        return self.tab.view

    def on_mount(self) -> None:
        if self.backend is not None:
            self.load_backend()
        elif self.engine != "model":
            self.call_after_refresh(self.use_backend, self.analyst)

    def on_tabbed_content_tab_activated(self, _event: object) -> None:
        self.tab.view.focus()  # its status bar renders itself at its width when shown

    def action_switch_file(self, step: int) -> None:
        if len(self.paths) == 1:
            return
        contents = self.query_one(TabbedContent)
        i = int(contents.active.removeprefix("file-"))
        contents.active = f"file-{(i + step) % len(self.paths)}"

    async def action_merge_files(self) -> None:
        """Open a tab with the open files interleaved by time (or go to it when it is open)."""
        files = [i for i, source in enumerate(self.sources) if isinstance(source, LogSource)]
        if len(files) < 2:
            self.notify("open two or more files to merge them (or start with --merge a.log b.log)", timeout=4)
            return
        contents = self.query_one(TabbedContent)
        for i, source in enumerate(self.sources):
            if isinstance(source, MergedSource):
                contents.active = f"file-{i}"
                return
        try:
            merged = MergedSource([self.paths[i] for i in files])
        except LogptError as e:
            self.notify(visible(str(e)), severity="error", markup=False)
            return
        i = len(self.sources)
        self.sources.append(merged)
        self.paths.append(merged.path)
        self.names.append("merged")
        flags = FlagEngine(merged.path) if self.flags_arg is DEFAULT else None
        tab = LogTab(merged, name="merged", poll_seconds=self.poll_seconds, flags=flags, model_state=self.model_state)
        await contents.add_pane(TabPane(Content("merged"), tab, id=f"file-{i}"))
        contents.active = f"file-{i}"
        if self.tabs[0].backend is not None:  # the model (or the analyst) answers here too
            self.answer_with(tab, self.tabs[0].backend)

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for key in palette_commands():
            yield SystemCommand(key.palette, key.palette_help, lambda action=key.action: self.run_tab_action(action))
        if len(self.paths) > 1:
            yield SystemCommand("Merge open files", "One tab with the open files' lines interleaved by time",
                                lambda: self.call_later(self.run_action, "merge_files"))  # fmt: skip

    def run_tab_action(self, action: str) -> None:
        self.call_later(self.run_action, action, self.tab)

    # ---- the model: loaded once, in a worker, for every tab ----

    @work(thread=True, exclusive=True, group="backend", exit_on_error=False)
    def load_backend(self) -> None:
        try:
            if self.backend is not None:
                self.backend.load()
        except LogptError as e:
            self.post_message(BackendReady(e.message))
            return
        self.post_message(BackendReady())

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The model failed to load in an unforeseen way: the explorer goes on without it."""
        if event.state is WorkerState.ERROR and event.worker.group == "backend":
            error = event.worker.error
            self.post_message(BackendReady(f"{type(error).__name__}: {error}"))

    def on_backend_ready(self, message: BackendReady) -> None:
        if message.error is None and self.backend is not None:
            self.model_loaded = True
            self.use_backend(self.backend)
            return
        fallback = self.analyst if self.engine == "auto" else None
        after = "; the analyst answers instead" if fallback else ""
        self.notify(visible(f"model unavailable: {message.error}{after}"), severity="warning", timeout=6, markup=False)
        self.use_backend(fallback)

    def use_backend(self, backend: Backend | None) -> None:
        """Every tab answers with `backend` (the model, the analyst, or None: no analysis)."""
        self.model_state = f"{backend.name} · {backend.device}" if backend is not None else "no model"
        for tab in self.tabs:
            self.answer_with(tab, backend)

    def answer_with(self, tab: LogTab, backend: Backend | None) -> None:
        """`tab` answers with `backend`; with `--engine auto` the analyst replaces a garbled model reply."""
        tab.panel.analyst_if_garbled = self.engine == "auto"
        tab.model_ready(backend, self.model_state)

    def switch_engine(self) -> None:
        """Replies from the analyst instead of the model, or back (every tab)."""
        current = self.tab.backend
        if current is self.analyst:
            if not self.model_loaded:
                self.notify("no model loaded: the analyst answers", timeout=3)
                return
            self.use_backend(self.backend)
        else:
            self.use_backend(self.analyst)
        self.notify(visible(f"replies from: {self.model_state}"), timeout=3, markup=False)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="logpt-tui",
        description="Open logs in the logpt explorer (q quits, ? lists the keys, Ctrl+P opens the command palette).",
        epilog="Piped input: cmd | logpt-tui -",
    )
    parser.add_argument("files", nargs="*", metavar="FILE",
                        help="log files, each in a tab; - reads stdin; redis://HOST:PORT/STREAM follows a Redis stream; "
                             "none: the system journal, else /var/log/syslog or /var/log/messages")  # fmt: skip
    parser.add_argument("--merge", action="store_true",
                        help="one timeline: the files' lines interleaved by time, each marked with its file")  # fmt: skip
    parser.add_argument("--theme", help="a Textual theme, e.g. textual-light, nord, gruvbox (remembered)")
    parser.add_argument("--no-model", action="store_true", help="do not load the analysis model")
    parser.add_argument("--engine", choices=ENGINES, default="auto",
                        help="who writes replies: auto (the model, or the analyst when no model loads; the default), "
                             "model, or analyst (model-free, instant)")  # fmt: skip
    parser.add_argument("--no-flags", action="store_true", help="do not run the anomaly detector")
    parser.add_argument("--compile", action="store_true",
                        help="decode replies through torch.compile (CUDA only; the first reply compiles)")  # fmt: skip
    return parser.parse_args(argv)


def open_argument(arg: str) -> tuple[Path, str | None]:
    """A command-line argument as (a file to follow, its tab name): a path, `-` (stdin), or a Redis stream URL."""
    if arg == "-":
        return spool_stdin(), "stdin"
    if is_stream_url(arg):
        return spool_stream(arg)
    return Path(arg), None


def main(argv: list[str] | None = None) -> None:
    """Entry point of `logpt-tui FILE [FILE…]` (or `cmd | logpt-tui -`)."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.files.count("-") > 1:
        print("error: stdin (-) can be opened once", file=sys.stderr)
        sys.exit(2)
    try:
        from engine.logs.formats import load_formats  # noqa: PLC0415

        load_formats()  # a broken user format file is a one-line error now, not a worker's traceback later
        if args.files:
            opened = [open_argument(f) for f in args.files]
            paths, names = [p for p, _ in opened], [n for _, n in opened]
        else:  # the first run: what a user of this machine most likely wants to read
            path, name = system_log()
            paths, names = [path], [name]
        app = LogptApp(paths, name=names, theme=args.theme, settings=settings_path(),
                       backend=None if args.no_model else ModelBackend(compiled=True) if args.compile else DEFAULT,
                       engine=args.engine,
                       flags=None if args.no_flags else DEFAULT, merge=args.merge)  # fmt: skip
    except LogptError as e:  # names a file, a folder or a format the user gave: terminal-safe, never raw
        print(f"error: {visible(str(e))}", file=sys.stderr)
        sys.exit(2)
    try:
        app.run()
    finally:
        for cleanup in CLEANUPS:
            cleanup()
    # Leave now: background workers (a model loading, a detector training) run in executor threads
    # that the interpreter would otherwise wait for; the screen is already restored.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(app.return_code or 0)


if __name__ == "__main__":
    main()
