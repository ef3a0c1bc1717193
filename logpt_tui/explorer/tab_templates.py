"""Templates in a tab: mined in a worker as the file grows; pick one to show only its lines.

A mixin of `LogTab` (logpt_tui/explorer/tab.py), which supplies the source, the view,
the filter rows and `update_status`.
"""

from __future__ import annotations

from textual import work

from logpt_tui.explorer.handlers import BATCH, needs_view
from logpt_tui.explorer.messages import TemplatesMined
from logpt_tui.explorer.screens import TemplatesScreen


class TemplatesMixin:
    template_keys: list[int]
    template_counts: dict[int, int]
    template_texts: dict[int, str]
    template_filter: int | None
    template_shown: list[int]
    template_scanned: int
    mining: bool
    view_miner: tuple | None

    def action_templates(self) -> None:
        if not self.mining and len(self.template_keys) < len(self.source):
            self.mine_worker()
        self.app.push_screen(TemplatesScreen(self), self.pick_template)

    @work(thread=True, exclusive=True, group="mine")
    def mine_worker(self) -> None:
        from engine.logs.formats import detect_format, parse_lines  # noqa: PLC0415
        from engine.logs.templates import TemplateMiner  # noqa: PLC0415

        self.mining = True
        try:
            if self.view_miner is None or not self.template_keys:  # first run, or the file was replaced
                self.view_miner = (detect_format(self.source.block(0, 200)).format, TemplateMiner())
            fmt, miner = self.view_miner
            while len(self.template_keys) < len(self.source):
                start = len(self.template_keys)
                lines = self.source.block(start, min(start + BATCH, len(self.source)))
                keys = [miner.add(r.message) for r in parse_lines(lines, fmt, first_line=start + 1, multiline=False)]
                self.template_keys.extend(keys)
                self.template_counts = dict(miner.counts)
                self.template_texts = {t.key: t.text for t in miner.templates()}
                self.post_message(TemplatesMined(len(self.template_keys)))
        finally:
            self.mining = False

    @needs_view
    def on_templates_mined(self, _message: TemplatesMined) -> None:
        if self.template_filter is not None:
            self.extend_template_rows()
            self.view.rows_grew()
        for screen in self.app.screen_stack:
            if isinstance(screen, TemplatesScreen) and screen.explorer is self:
                screen.refresh_table()
        self.update_status()

    def extend_template_rows(self) -> None:
        """Add the newly mined lines of the picked template to the rows shown (only the new ones are scanned)."""
        keys, key = self.template_keys, self.template_filter
        stop = len(keys)
        self.template_shown.extend(i for i in range(self.template_scanned, stop) if keys[i] == key)
        self.template_scanned = stop

    def pick_template(self, key: int | None) -> None:
        self.template_filter = key
        if key is None:
            self.view.set_rows(self.filter_rows if self.filter.active else None)
        else:
            self.view.follow = False
            self.template_shown, self.template_scanned = [], 0
            self.extend_template_rows()
            self.view.set_rows(self.template_shown)
            self.view.scroll_home(animate=False)
        self.update_status()
