"""Templates in a tab: mined in a worker as the file grows; pick one to show only its lines.

A mixin of `LogTab` (logpt_tui/explorer/tab.py), which supplies the source, the view,
`show_rows` and `update_status`. The mined keys live in `TabState.templates`,
handed over under its lock (see logpt_tui/explorer/state.py).
"""

from __future__ import annotations

from textual import work

from logpt_tui.explorer.handlers import needs_view
from logpt_tui.explorer.messages import TemplatesMined
from logpt_tui.explorer.screens import TemplatesScreen
from logpt_tui.explorer.settings import BATCH
from logpt_tui.explorer.state import TabState


class TemplatesMixin:
    state: TabState

    def action_templates(self) -> None:
        templates = self.state.templates
        if not templates.mining and templates.mined() < len(self.source):
            self.mine_worker()
        self.app.push_screen(TemplatesScreen(templates, lambda: len(self.source)), self.pick_template)

    @work(thread=True, exclusive=True, group="mine", exit_on_error=False)
    def mine_worker(self) -> None:
        from engine.logs.formats import parse_lines  # noqa: PLC0415
        from engine.logs.templates import TemplateMiner  # noqa: PLC0415

        state = self.state.templates
        state.mining = True
        try:
            generation = state.generation
            if state.miner is None:  # first run, or the file was replaced
                state.miner = (self.record_format(), TemplateMiner())
            fmt, miner = state.miner
            while (start := state.mined()) < len(self.source):
                lines = self.source.block(start, min(start + BATCH, len(self.source)))
                # One key per line; a block format's entry (journald export) gives its key to all its lines.
                records = list(parse_lines(lines, fmt, first_line=start + 1, multiline=fmt.entries))
                if fmt.entries and len(records) > 1 and start + len(lines) < len(self.source):
                    records.pop()  # the last entry may go on past this batch: it is mined with the next
                keys = [key for r in records for key in [miner.add(r.message)] * (r.end_line - r.line + 1)]
                texts = {t.key: t.text for t in miner.templates()}
                if not state.take(generation, keys, dict(miner.counts), texts):
                    return  # the file was replaced: a new worker mines it
                self.post_message(TemplatesMined(start + len(keys)))
        finally:
            state.mining = False

    @needs_view
    def on_templates_mined(self, _message: TemplatesMined) -> None:
        if self.state.templates.picked is not None:
            self.state.templates.extend_picked()
            self.view.rows_grew()
        for screen in self.app.screen_stack:
            if isinstance(screen, TemplatesScreen) and screen.templates is self.state.templates:
                screen.refresh_table()
        self.update_status()

    def pick_template(self, key: int | None) -> None:
        self.state.templates.pick(key)
        if key is not None:
            self.view.follow = False
        self.show_rows()
        if key is not None:
            self.view.cursor_to(0)  # the template's first line
