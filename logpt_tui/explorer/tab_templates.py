"""Templates in a tab: the keys of the tab's one miner as the file grows; pick one to show only its lines.

A mixin of `LogTab` (logpt_tui/explorer/tab.py), which supplies the source, the view,
`show_rows` and the status bar (which follows the view's rows and `show_rows` sets the picked template). The view reads the flag engine's session book where it has one, else
this mixin's worker mines, and the flag engine continues with that miner (logpt_tui/explorer/mining.py;
the hand-over is in logpt_tui/explorer/state.py).
"""

from __future__ import annotations

from textual import work

from logpt_tui.explorer.handlers import needs_view
from logpt_tui.explorer.messages import TemplatesMined
from logpt_tui.explorer.mining import WorkerMining
from logpt_tui.explorer.screens import TemplatesScreen
from logpt_tui.explorer.state import TabState


class TemplatesMixin:
    state: TabState

    def action_templates(self) -> None:
        templates = self.state.templates
        own = templates.open(self.state.flags.engine)  # the flag engine's book, or where it has none yet our own
        if own is not None and not templates.mining and own.mined() < len(self.source):
            self.mine_worker()
        self.app.push_screen(TemplatesScreen(templates, lambda: len(self.source)), self.pick_template)

    @work(thread=True, exclusive=True, group="mine", exit_on_error=False)
    def mine_worker(self) -> None:
        """Mine for the Templates view while the flag engine has no book (mining.py: it then continues with this
        miner); where the view reads the book, the engine's workers mine and this does nothing."""
        state = self.state.templates
        own = state.source
        if not isinstance(own, WorkerMining):
            return
        state.mining = True
        try:
            while own.mine(self.source.block, len(self.source), self.record_format()):
                self.post_message(TemplatesMined(own.mined()))
        finally:
            state.mining = False

    @needs_view
    def on_templates_mined(self, _message: TemplatesMined) -> None:
        if self.state.templates.picked is not None:
            if self.state.templates.extend_picked():
                self.show_rows()  # scanned again: another list
            else:
                self.view.rows_grew()
        for screen in self.app.screen_stack:
            if isinstance(screen, TemplatesScreen) and screen.templates is self.state.templates:
                screen.refresh_table()

    def pick_template(self, key: int | None) -> None:
        self.state.templates.pick(key)
        if key is not None:
            self.view.follow = False
        self.show_rows()
        if key is not None:
            self.view.cursor_to(0)  # the template's first line
