"""The explorer's modal screens: the key help and the templates view."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from logpt_tui.explorer.keys import help_text
from logpt_tui.terminal import visible

if TYPE_CHECKING:
    from logpt_tui.explorer.state import TemplateState


class TemplatesScreen(ModalScreen[int | None]):
    """The file's templates, most frequent first; Enter shows only that template's lines, Esc shows all."""

    DEFAULT_CSS = """
    TemplatesScreen { align: center middle; }
    TemplatesScreen > Vertical { width: 90%; height: 80%; background: $panel; border: round $accent; }
    TemplatesScreen #templates-head { height: 1; padding: 0 1; }
    """
    BINDINGS = [Binding("escape", "show_all", "All lines")]

    def __init__(self, templates: TemplateState, total: Callable[[], int]) -> None:
        super().__init__()
        self.templates = templates
        self.total = total  # lines in the file now

    def compose(self) -> ComposeResult:
        from textual.widgets import DataTable  # noqa: PLC0415

        with Vertical():
            yield Static(id="templates-head")
            table = DataTable(cursor_type="row", id="templates")
            table.add_columns("lines", "key", "template")
            yield table

    def on_mount(self) -> None:
        self.refresh_table()
        self.query_one("#templates").focus()

    def refresh_table(self) -> None:
        from textual.widgets import DataTable  # noqa: PLC0415

        mined, counts, texts = self.templates.snapshot()
        table = self.query_one("#templates", DataTable)
        table.clear()
        for key, count in sorted(counts.items(), key=lambda kv: -kv[1])[:500]:
            table.add_row(f"{count:,}", str(key), Text(visible(texts.get(key, "?"))[:200]), key=str(key))
        done = mined * 100 // max(1, self.total())
        state = "" if done >= 100 else f" · mining {done}%"
        head = Text(f"{len(counts):,} templates", style="bold")
        head.append(f"{state} · Enter: only its lines · Esc: all lines", style="")
        self.query_one("#templates-head", Static).update(head)

    def on_data_table_row_selected(self, event: object) -> None:
        self.dismiss(int(event.row_key.value))  # type: ignore[attr-defined]

    def action_show_all(self) -> None:
        self.dismiss(None)


class HelpScreen(ModalScreen[None]):
    """The keys, in one place; any key closes it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Static { width: 76; padding: 1 2; background: $panel; border: round $accent; }
    """
    INTRO = "logpt explorer"
    OUTRO = """Lines stream in as the file grows; truncation and rotation
are followed. Chunks fit the model's context; the current
one has cyan line numbers. The strip on the right shows
flagged lines per chunk (click to jump; ┃ marks the view).
A click on a flagged line shows why. Escape sequences in
the log are shown as ^[. Press any key to close."""

    def compose(self) -> ComposeResult:
        yield Static(help_text(self.INTRO, self.OUTRO))

    def on_key(self) -> None:
        self.dismiss()
