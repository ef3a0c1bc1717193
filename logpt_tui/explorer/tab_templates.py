"""Templates in a tab: the keys of the tab's one miner as the file grows; pick one to show only its lines.

A mixin of `LogTab` (logpt_tui/explorer/tab.py), which supplies the source, the view,
`show_rows` and the status bar (which follows the view's rows; `show_rows` sets the picked template). The view
reads the flag engine's session book where it has one (or will have one from a cached detector), else this
mixin's worker mines, and the flag engine continues with that miner (logpt_tui/explorer/mining.py; the
hand-over is in logpt_tui/explorer/state.py). Past the book's memory cap this worker mines the rest.
"""

from __future__ import annotations

from textual import work

from logpt_tui.explorer.handlers import needs_view
from logpt_tui.explorer.messages import TemplatesMined
from logpt_tui.explorer.mining import BookMining, WorkerMining
from logpt_tui.explorer.screens import TemplatesScreen
from logpt_tui.explorer.state import TabState


class TemplatesMixin:
    state: TabState

    def action_templates(self) -> None:
        templates = self.state.templates
        engine, off = self.state.flags.engine, self.state.flags.off  # a failed engine will have no book to wait for
        templates.open(engine if engine is not None and (engine.book is not None or not off) else None)
        if not templates.mining:
            self.mine_worker()
        self.app.push_screen(TemplatesScreen(templates, lambda: len(self.source)), self.pick_template)

    @work(thread=True, exclusive=True, group="mine", exit_on_error=False)
    def mine_worker(self) -> None:
        """Mine for the Templates view while the flag engine has no book (mining.py: it then continues with this
        miner); where the view reads the book, the engine publishes its keys from now on (its workers mine them),
        and this mines only the lines past the book's memory cap."""
        state = self.state.templates
        own = state.source
        state.mining = True
        try:
            if isinstance(own, WorkerMining) and not own.handed_over:
                while own.mine(self.source.block, len(self.source), self.record_format()):
                    self.post_message(TemplatesMined(own.mined()))
            elif isinstance(own, BookMining):
                own.engine.read_keys()
                past = own.past_cap(make=True)
                while past is not None and past.mine(self.source.block, len(self.source)):
                    self.post_message(TemplatesMined(own.mined()))
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
        if not self.state.templates.mining and self.state.templates.past_cap_left(len(self.source)):
            self.mine_worker()  # the book reached its cap while the view reads it: the rest is mined for the view

    def pick_template(self, key: int | None) -> None:
        self.state.templates.pick(key)
        if key is not None:
            self.view.follow = False
        self.show_rows()
        if key is not None:
            self.view.cursor_to(0)  # the template's first line
