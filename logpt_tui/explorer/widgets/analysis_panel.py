"""The side panel: streamed analysis replies kept per chunk and query, and the "why" of a flagged line.

The panel owns the replies and the worker that streams one; the tab tells it
what to analyse (the chunk's lines, the flags in it, the backend) and which
chunk it is looking at. It knows nothing of files, chunks plans or flags
beyond what it is handed. The worker hands the backend's chunk to
engine.analysis.reply.answer, the seam the CLI uses too, and renders the
`Reply` it returns; the backend lets one reply generate at a time, whichever
tab asks (several tabs share one model).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import platformdirs
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Markdown, Static

from engine.analysis.queries import QUERIES
from engine.analysis.reply import Reply, analyst_reply, answer
from engine.errors import LogptError
from logpt_tui.explorer.backend import Backend
from logpt_tui.explorer.messages import AnalysisDone, AnalysisPiece, AnalysisProgress
from logpt_tui.explorer.settings import STREAM_REDRAW_S
from logpt_tui.terminal import visible

QUERY_TITLES = {q.name: q.title for q in QUERIES} | {"timeline": "Incident timeline"}
TIMELINE = (0, "timeline")  # the whole file's timeline: one reply, recomputed on each request

Key = tuple[int, str]  # (the chunk's first line, 0-based; the query, or "query:stop" for a marked range)


def replies_dir() -> Path:
    """Where `w` saves replies: the user's data dir, not wherever the explorer was started."""
    return Path(platformdirs.user_data_dir("logpt")) / "replies"


# `**Category:** …` then `**Signature:** …` on the next line: a Markdown hard break keeps them two lines.
FIELD_LINE = re.compile(r"^(\*\*[^*\n]+:\*\*.*)$", re.MULTILINE)


def as_markdown(body: str) -> str:
    """Panel text made terminal-safe, with a hard break after each `**Field:**` line."""
    return visible(FIELD_LINE.sub(r"\1  ", body))


def speed(reply: Reply) -> str:
    """Who wrote the reply, or how fast: the decode rate, else (a reply of one token) the whole rate."""
    if reply.by_analyst:
        return "written by the analyst"
    rate = reply.generation.decode_tokens_per_s or reply.generation.tokens_per_s
    return f"{reply.tokens} tokens · {rate:.1f} tok/s"


class AnalysisPanel(Vertical):
    DEFAULT_CSS = """
    AnalysisPanel { width: 45%; display: none; border-left: solid $accent; padding: 0 1; }
    AnalysisPanel.-open { display: block; }
    AnalysisPanel #panel-head { height: auto; color: $text-muted; }
    AnalysisPanel #panel-body { height: 1fr; overflow-y: auto; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.replies: dict[Key, Reply] = {}
        self.running: Key | None = None  # the reply streaming now
        self.stream_text = ""
        self.progress = ""  # how far the running timeline has read, for the heading
        self.analyst_if_garbled = False  # `--engine auto`: a garbled model reply is replaced by the analyst's
        self.shown: Key | None = None  # the reply in the panel (None: the panel shows something else, or nothing)
        self.chunk_no: dict[Key, int] = {}  # 1-based chunk number, for the heading
        self.model_state = ""
        self.redraw_due = False  # a redraw of the streaming reply is scheduled
        self.queue: list[tuple[Key, Callable[[], object]]] = []  # requests made while one streams, in order

    def compose(self) -> ComposeResult:
        yield Static(id="panel-head")
        yield Markdown(id="panel-body")

    @property
    def is_open(self) -> bool:
        return self.has_class("-open")

    def close(self) -> None:
        self.remove_class("-open")

    def forget(self) -> None:
        """The file changed under the chunks: replies no longer match them (a running one finishes unkept)."""
        self.replies.clear()

    def show_markdown(self, title: str, detail: str, body: str) -> None:
        """Something other than a reply (the why of a flag): `detail` and `body` may hold log text."""
        self.shown = None
        self.add_class("-open")
        self.query_one("#panel-head", Static).update(Text.assemble((title, "bold"), f" · {visible(detail)}"))
        self.query_one("#panel-body", Markdown).update(as_markdown(body))

    def request(self, key: Key, chunk_no: int, lines: list[str], flagged: dict[int, str], backend: Backend) -> None:
        """Show the reply for `key`: the kept one, or stream a new one (unless another is streaming)."""
        self.add_class("-open")
        self.chunk_no[key] = chunk_no
        if key in self.replies:
            self.show_reply(key)
            return
        if self.running is not None:
            self.enqueue(key, lambda: self.analysis_worker(key, lines, flagged, backend))
            return
        self.running, self.shown, self.stream_text = key, key, ""
        self.render_panel()
        self.analysis_worker(key, lines, flagged, backend)

    def enqueue(self, key: Key, start: Callable[[], object]) -> None:
        """A request while another streams waits its turn (once); Esc cancels the running one and the queue."""
        if key != self.running and all(key != k for k, _ in self.queue):
            self.queue.append((key, start))
        self.notify(f"queued: {len(self.queue)} waiting (Esc cancels the reply and the queue)", timeout=3)
        self.render_panel()

    def start_next(self) -> None:
        if self.running is not None or not self.queue:
            return
        key, start = self.queue.pop(0)
        if key == TIMELINE:
            self.replies.pop(TIMELINE, None)  # the file may have grown since the last one
        elif key in self.replies:
            self.show_reply(key)
            self.start_next()
            return
        self.running, self.shown, self.stream_text = key, key, ""
        self.render_panel()
        start()

    def request_timeline(self, read: Callable[[], list[str]], on_disk: tuple[list, object] | None = None) -> None:
        """The whole file's incident timeline (the analyst's map over chunk digests), streamed from a worker.

        `on_disk`: the file's spans and format (`engine.analysis.wholefile`), so that it is read in blocks, a
        big one by several processes; else `read()` gives the lines.
        """
        self.add_class("-open")
        if self.running is not None:
            self.enqueue(TIMELINE, lambda: self.timeline_worker(read, on_disk))
            return
        self.replies.pop(TIMELINE, None)  # the file may have grown since the last one
        self.running, self.shown, self.stream_text, self.progress = TIMELINE, TIMELINE, "", ""
        self.render_panel()
        self.timeline_worker(read, on_disk)

    @work(thread=True, exclusive=True, group="analysis", exit_on_error=False)
    def timeline_worker(self, read: Callable[[], list[str]], on_disk: tuple[list, object] | None) -> None:
        from textual.worker import get_current_worker  # noqa: PLC0415

        from engine.analysis import timeline as tl  # noqa: PLC0415
        from engine.analysis.wholefile import map_file  # noqa: PLC0415

        worker = get_current_worker()
        on_episode = tl.listing(lambda line: self.post_message(AnalysisPiece(TIMELINE, "\n" + line)))

        def on_progress(done: int, total: int) -> None:
            self.post_message(AnalysisProgress(TIMELINE, done, total))

        cancelled = lambda: worker.is_cancelled  # noqa: E731
        if on_disk is not None:
            spans, fmt = on_disk
            total = sum(s.lines for s in spans)
            self.post_message(AnalysisPiece(TIMELINE, tl.timeline_title(1, total)))
            found = map_file(spans, fmt, tl.chunk_lines_for(total), on_episode=on_episode,  # type: ignore[arg-type]
                             on_progress=on_progress, cancelled=cancelled)  # fmt: skip
        else:
            lines = read()
            total = len(lines)
            self.post_message(AnalysisPiece(TIMELINE, tl.timeline_title(1, total)))
            per_chunk = tl.chunk_lines_for(total)
            found = tl.episodes_of(lines, on_episode=on_episode, cancelled=cancelled,
                                   on_chunk=lambda n, _chunks: on_progress(min(total, n * per_chunk), total))  # fmt: skip
        text = tl.timeline(found, 1, total)
        reply = analyst_reply("timeline", 1, total, text, cancelled=worker.is_cancelled)
        self.post_message(AnalysisDone(TIMELINE, reply))

    def on_analysis_progress(self, message: AnalysisProgress) -> None:
        message.stop()
        if message.key == self.running and message.total:
            self.progress = f"read {message.done / message.total:.0%} of {message.total:,} lines"
            if message.key == self.shown and not self.redraw_due:
                self.redraw_due = True
                self.set_timer(STREAM_REDRAW_S, self.redraw_stream)

    def cancel(self) -> bool:
        """Cancel the streaming reply; False when none was streaming."""
        if self.running is None:
            return False
        self.queue.clear()
        self.workers.cancel_group(self, "analysis")
        return True

    @work(thread=True, exclusive=True, group="analysis", exit_on_error=False)
    def analysis_worker(self, key: Key, lines: list[str], flagged: dict[int, str], backend: Backend) -> None:
        from textual.worker import get_current_worker  # noqa: PLC0415

        worker = get_current_worker()
        start, query = key[0], key[1].partition(":")[0]  # "root_cause:812": a marked range
        try:
            reply = answer(backend.chunk(lines, start + 1), query, backend, flagged=flagged,
                           fallback=self.analyst_if_garbled, cancelled=lambda: worker.is_cancelled,
                           on_text=lambda piece: self.post_message(AnalysisPiece(key, piece)))  # fmt: skip
        except LogptError as e:
            self.post_message(AnalysisDone(key, e.message))
            return
        self.post_message(AnalysisDone(key, reply))

    def on_analysis_piece(self, message: AnalysisPiece) -> None:
        message.stop()
        if message.key == self.running:
            self.stream_text += message.text
            if message.key == self.shown and not self.redraw_due:
                self.redraw_due = True
                self.set_timer(STREAM_REDRAW_S, self.redraw_stream)

    def redraw_stream(self) -> None:
        self.redraw_due = False
        if self.running is not None and self.running == self.shown:
            self.render_panel()

    def on_analysis_done(self, message: AnalysisDone) -> None:
        message.stop()
        self.running, self.progress = None, ""
        self.call_later(self.start_next)
        if isinstance(message.reply, str):
            self.notify(visible(f"analysis failed: {message.reply}"), severity="error", markup=False)
            return
        reply = message.reply
        if not reply.cancelled:
            self.replies[message.key] = reply
        if message.key == self.shown:
            self.stream_text = reply.text
            self.render_panel(reply)

    def show_reply(self, key: Key, chunk_no: int | None = None) -> None:
        if chunk_no is not None:
            self.chunk_no[key] = chunk_no
        self.shown = key
        reply = self.replies.get(key)
        if reply is None and key == self.running:
            self.render_panel()
            return
        self.stream_text = reply.text if reply else ""
        self.render_panel(reply)

    def render_panel(self, reply: Reply | None = None) -> None:
        if self.shown is None:
            return
        query, _, stop = self.shown[1].partition(":")  # "root_cause:812": a marked range up to line 812
        if query == "timeline":
            where = " · whole file · analyst"
        elif stop:
            where = f" · marked lines {self.shown[0] + 1}–{stop} · analyst"
        else:
            where = f" · chunk {self.chunk_no.get(self.shown, '?')} · {visible(self.model_state)}"
        head = Text.assemble((QUERY_TITLES[query], "bold"), where)  # text: names and replies are never markup
        body = self.stream_text
        if reply is None and self.running == self.shown:
            head.append(f" · {self.progress or 'generating…'} (Esc cancels)")
        if self.queue:
            head.append(f" · {len(self.queue)} queued")
        elif reply is not None:
            head.append(f"\nlines {reply.first_line}–{reply.last_line} · {speed(reply)}")
            if reply.instead_of is not None:
                note = f"instead of the model's garbled reply ({reply.instead_of.unknown_share:.0%} unknown words)"
                head.append(f" · {note}", style="yellow")
            if reply.cancelled:
                head.append(" · ")
                head.append("cancelled", style="yellow")
            if reply.garbled:  # grounded facts in unreadable prose: say so where the reply is read
                head.append(" · ")
                head.append(f"garbled: {reply.unknown_share:.0%} unknown words", style="bold red")
            if reply.ungrounded:
                shown = ", ".join(dict.fromkeys(reply.ungrounded))
                body += f"\n\n> ⚠ **Not grounded** (in neither the chunk nor its facts): {shown}"
        elif not body:
            body = "_No reply for this chunk yet: press s, r or a._"
        self.query_one("#panel-head", Static).update(head)
        self.query_one("#panel-body", Markdown).update(as_markdown(body))

    def markdown(self, source_name: str) -> tuple[str, Reply] | None:
        """The shown reply as a Markdown document, with where it came from in a comment."""
        if self.shown is None or self.shown not in self.replies:
            return None
        reply = self.replies[self.shown]
        head = f"<!-- {source_name} lines {reply.first_line}-{reply.last_line} · {self.model_state} -->"
        return f"{head}\n{reply.text}\n", reply

    def copy(self, source_name: str) -> None:
        found = self.markdown(source_name)
        if found is None:
            self.notify("nothing to copy yet", timeout=2)
            return
        self.app.copy_to_clipboard(found[0])
        self.notify("copied the reply as Markdown", timeout=2)

    def save(self, source_name: str) -> None:
        found = self.markdown(source_name)
        if found is None:
            self.notify("nothing to save yet", timeout=2)
            return
        text, reply = found
        name = Path(source_name).name.replace(" ", "_").replace(":", "")
        target = replies_dir() / f"{name}.lines-{reply.first_line}-{reply.last_line}.{reply.query}.md"
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        except OSError as e:
            self.notify(visible(f"cannot save: {e}"), severity="error", markup=False)
            return
        self.notify(visible(f"saved {target}"), timeout=3, markup=False)
