"""Anomaly flags in a tab: the detector prepared and run in workers, flags applied, jumps and the why pane.

A mixin of `LogTab` (logpt_tui/explorer/tab.py), which supplies the source, the view,
the panel, `anchor_line` and the status bar (its `flags` and `flagged_only` fields are set here). Its state is `TabState.flags`
(the `FlagSet` found so far and the `FlagEngine`: cached or self-trained detector and its session book).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work

from engine.errors import InputError, LogptError
from logpt_tui.explorer.handlers import needs_view
from logpt_tui.explorer.messages import FlagsFound, FlagStatus, TemplatesMined
from logpt_tui.explorer.settings import BATCH, SCORE_LINES, SCORE_SESSIONS
from logpt_tui.explorer.state import TabState
from logpt_tui.explorer.status import Part
from logpt_tui.explorer.widgets.log_view import LogView
from logpt_tui.terminal import visible

if TYPE_CHECKING:
    from logpt_tui.explorer.flagset import FlagEngine


class FlagsMixin:
    state: TabState

    def detector_ready(self) -> bool:
        return self.state.flags.engine is not None and self.state.flags.engine.ready

    @work(thread=True, exclusive=True, group="flags", exit_on_error=False)
    def flag_worker(self) -> None:
        """Prepare the detector, take the file in order, then score: sessions on screen first."""
        from engine.detect.pipeline import HISTORY_LINES  # noqa: PLC0415 - torch loads here, in the worker

        engine = self.state.flags.engine
        assert engine is not None
        status = lambda text: self.post_message(FlagStatus("working", text))  # noqa: E731
        try:
            history = self.source.block(0, min(len(self.source), HISTORY_LINES))
            engine.prepare(history, self.record_format(), on_stage=status)
        except InputError:  # too little history to learn from: say so in the status bar only
            self.post_message(FlagStatus("off", "too little history"))
            return
        except LogptError as e:
            self.post_message(FlagStatus("off", e.message, failed=True))
            return
        self.say_notice()
        self.share_miner(engine)
        total = len(self.source)
        view_line = max(0, self.anchor_line())
        near = (max(0, view_line - BATCH // 2), min(total, view_line + BATCH // 2))
        provisional = total > BATCH  # mining the whole file in order takes a while: show the view's block now
        if provisional:
            self.post_message(FlagsFound(engine.preview(self.source.block(*near), near[0] + 1), 0))
        for start in range(0, total, BATCH):  # blocks under FLOOD_LINES: catch_up never samples here
            engine.catch_up(self.source.block, min(total, start + BATCH))
            done = min(total, start + BATCH) * 100 // max(total, 1)
            status(f"mining {done}%" + (" · flags near the view are provisional" if provisional else ""))
            self.post_message(TemplatesMined(engine.published.lines))
            self.say_notice()  # the memory cap reached: the rest is not judged, said once
        # The view's sessions up to its last line first: in a file of one long session (sshd's), all of it before,
        # in parts of SCORE_LINES (the memory a part needs is the part's, not the session's; flags once, after).
        for until in range(SCORE_LINES, near[1], SCORE_LINES):
            status(f"scoring the view's sessions {until * 100 // max(near[1], 1)}%")
            engine.score(near=near, until_line=until, flags=False)
        self.post_message(FlagsFound(engine.score(near=near, until_line=near[1]), total))
        engine.follow(self.source.block, len(self.source))  # what arrived meanwhile; appends go to the tail worker
        self.post_message(TemplatesMined(engine.published.lines))  # with the last record, held back until now
        until = near[1]
        while engine.pending():  # the rest in parts, flags shown after each
            until += SCORE_LINES
            status(f"scoring {min(100, until * 100 // max(engine.lines, 1))}%")
            part = until if until < engine.lines else None
            self.post_message(FlagsFound(engine.score(limit=SCORE_SESSIONS, until_line=part), engine.lines))
        self.post_message(FlagStatus("done"))  # the status shows the count

    @work(thread=True, exclusive=True, group="flags-tail", exit_on_error=False)
    def flag_tail_worker(self) -> None:
        """Appended lines join their sessions, which are rescored from where they changed."""
        engine = self.state.flags.engine
        assert engine is not None and engine.ready
        total = len(self.source)
        if total <= engine.lines:
            return
        first_skip = engine.skipped == 0
        if engine.catch_up(self.source.block, total) and first_skip:  # said once; the count stays in the status
            self.post_message(
                FlagStatus("flood", "detector: a flood of lines; judging only the newest (sampling)", failed=True)
            )
        self.say_notice()
        self.post_message(TemplatesMined(engine.published.lines))
        self.post_message(FlagsFound(engine.score(), total))

    def share_miner(self, engine: FlagEngine) -> None:
        """The book's miner is the tab's one: where the Templates view's worker mined first, the book continues with
        its miner and keys; the view reads the book from now (logpt_tui/explorer/mining.py)."""
        templates = self.state.templates
        own = templates.hand_over()
        if own is not None:
            engine.adopt(own, self.source.block)
        if templates.use(engine):  # the view is open: the engine publishes its keys from now on
            engine.read_keys()
        self.post_message(TemplatesMined(engine.published.lines))

    def say_notice(self) -> None:
        """What the engine has to say once (a corrupt cache set aside, the memory cap reached), as a warning."""
        engine = self.state.flags.engine
        notice = engine.take_notice() if engine is not None else ""
        if notice:
            self.post_message(FlagStatus("notice", notice, failed=True))

    @needs_view
    def on_flag_status(self, message: FlagStatus) -> None:
        flags = self.state.flags
        if message.kind == "working":  # a start (again, after the file was replaced)
            flags.activity, flags.off, flags.done = message.text, "", False
        elif message.kind == "off":
            flags.off = message.text
            if self.state.templates.without_book() and not self.state.templates.mining:
                self.mine_worker()  # the view waited for a cached detector's book: it mines on its own
        elif message.kind in ("done", "flood"):
            flags.done = True
        self.explain_empty()
        if message.failed:
            said = f"no detector: {message.text}" if message.kind == "off" else message.text
            self.notify(visible(said), severity="warning", timeout=5, markup=False)
        self.status.flags = self.flag_part()

    @needs_view
    def on_flags_found(self, message: FlagsFound) -> None:
        self.state.flags.found.reset(message.flags, message.upto)
        if self.state.flags.only:
            self.view.set_rows(self.state.rows())
        self.view.refresh()
        self.explain_empty()
        self.status.flags = self.flag_part()
        self.update_minimap()

    def flag_part(self) -> Part:
        """The detector's part of the status bar: what it is doing, why there is none, or once the file is
        judged `N flagged (source · line model)` (shortened to `N flagged`): which models judged, how many
        lines a flood made it skip, and past which line the memory cap left lines unjudged, if any."""
        flags, engine = self.state.flags, self.state.flags.engine
        if engine is None:
            return Part("")
        if flags.off:
            return Part(f"no detector: {flags.off}")
        if not flags.done:  # reaching the memory cap is said at once, as a warning
            return Part(f"detector: {flags.activity}")
        capped = engine.capped_at
        cap = f"memory cap {engine.cap_mb:g} MB"
        beyond = f" · lines after {capped:,} not judged ({cap})" if capped is not None else ""
        skipped = f" · {engine.skipped:,} lines of a flood not judged" if engine.skipped else ""
        count = f"{len(flags.found):,} flagged{skipped}{beyond}"
        line_model = " · line model" if engine.pipeline is not None and engine.pipeline.line_lm is not None else ""
        return Part(f"{count} ({engine.source}{line_model})", 1, count)

    def action_flag(self, step: int) -> None:
        target = self.state.flags.found.step(self.anchor_line(), step)
        if target is None:
            self.notify("no flagged lines (yet)", timeout=2)
            return
        self.view.show_line(target)
        self.show_why(target)

    def action_flagged_only(self) -> None:
        """`F`: flagged lines only, or every line again; the cursor keeps its line (or the nearest shown)."""
        self.state.flags.only = not self.state.flags.only
        self.view.empty_text = ""
        self.show_rows()
        self.explain_empty()
        if self.state.flags.only and not self.state.flags.found:
            self.notify(visible(self.view.empty_text), timeout=4, markup=False)

    def explain_empty(self) -> None:
        """The flagged-only view with no flag says why: the detector is off, failed, still at work, or found none."""
        flags = self.state.flags
        if not flags.only or flags.found:
            return
        if flags.engine is None:
            why = "no line is flagged: the detector is off (--no-flags)"
        elif flags.off:
            why = f"no line is flagged: no detector: {flags.off}"
        elif flags.done:
            why = "no line is flagged: the detector found nothing unusual"
        else:
            why = f"no flagged lines yet: the detector is still {flags.activity}"
        self.view.empty_text = why
        self.view.refresh()

    def action_why(self) -> None:
        line = self.view.current if self.view.current is not None else self.anchor_line()
        if line < 0:
            self.notify("no line shown", timeout=2)
            return
        self.show_why(line)

    def on_log_view_line_clicked(self, message: LogView.LineClicked) -> None:
        if message.line in self.state.flags.found:
            self.show_why(message.line)

    def show_why(self, line: int) -> None:
        found = self.state.flags.found
        flag = found.get(line)
        if flag is None:
            body = f"Line {line + 1} is not flagged."
        else:
            evidence = "\n".join(f"- **{e.kind}** (+{e.weight:g}): {e.detail}" for e in flag.evidence)
            key = f" {flag.key}" if flag.key else ""  # the key the Templates view lists it under
            body = (f"## Why line {flag.line} is flagged\n\n**Template{key}:** `{flag.template}`\n\n"
                    f"**Evidence** (score {flag.score:g}):\n\n{evidence}")  # fmt: skip
            incident = found.incident_of(line)
            if incident is not None and incident.lines > 1:
                body += (f"\n\n**Incident:** lines {incident.first}–{incident.last}, {incident.lines} flagged lines "
                         f"({incident.why})")  # fmt: skip
            if flag.expected:
                body += "\n\n### The model expected\n" + "\n".join(f"- `{t}`" for t in flag.expected)
        self.panel.show_markdown("Anomaly", self.flag_part().text, body)
