"""What the tab's mixins may use of the tab they are mixed into: `TabHost`.

`LogTab` (tab.py) is a Textual container made of mixins, one per concern (search, time, marks, record,
flags, templates, chunks). A mixin reads its own members and what this Protocol names: the tab's source,
state and widgets, the few methods one concern offers another, and the Textual methods it calls. The
Protocol is not a base class (its stubs would shadow Textual's methods in the tab's MRO); a test
(tests/logpt_tui/explorer/test_host.py) reads the mixins and fails on any member they use that neither
they nor `TabHost` declare, and checks that a running tab has every member named here.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from textual.app import App
    from textual.message import Message
    from textual.widgets import Input
    from textual.worker import WorkerManager

    from engine.logs.formats.spec import LogFormat
    from engine.logs.linesource import LineSource
    from logpt_tui.explorer.state import TabState
    from logpt_tui.explorer.status import Part
    from logpt_tui.explorer.widgets.analysis_panel import AnalysisPanel
    from logpt_tui.explorer.widgets.log_view import LogView
    from logpt_tui.explorer.widgets.status_bar import StatusBar


class TabHost(Protocol):
    """The tab as its mixins see it."""

    # the tab's file and state (tab.py)
    path: Path
    display_name: str  # the tab's title: the file, or the name given (stdin, a stream, a merge)
    source: LineSource
    state: TabState

    @property
    def view(self) -> LogView: ...
    @property
    def panel(self) -> AnalysisPanel: ...
    @property
    def prompt(self) -> Input: ...  # tab_search.py's prompt bar, which marks and time reuse
    @property
    def status(self) -> StatusBar: ...  # tab.py: typed fields that re-render the bar when set (never by hand)

    # what one concern offers the others
    def update_minimap(self) -> None: ...  # tab.py
    def search_part(self) -> Part: ...  # tab_search.py: the status bar's `search` field, from the search's state
    def time_span(self) -> str: ...  # tab_time.py: the status bar's `span` field, the times on screen
    def show_rows(self) -> None: ...  # tab.py: the view's rows after a filter, flags-only or templates change
    def anchor_line(self) -> int: ...  # tab_chunks.py: the cursor's line, the one the keys act on
    def action_chunk(self, step: int) -> None: ...  # tab_chunks.py
    def record_format(self) -> LogFormat: ...  # tab_record.py: the format, detected once
    def open_prompt(self, mode: str, placeholder: str) -> None: ...  # tab_search.py
    def goto_line(self, value: str) -> None: ...  # tab_time.py: `:` to a line or a time
    def export_to(self, value: str) -> None: ...  # tab_marks.py
    def mine_worker(self) -> object: ...  # tab_templates.py: mines for the Templates view (a worker)

    # Textual's, used by the mixins
    @property
    def app(self) -> App[Any]: ...
    @property
    def workers(self) -> WorkerManager: ...
    def notify(self, message: str, **options: Any) -> None: ...
    def post_message(self, message: Message) -> bool: ...
    def query_one(self, selector: Any, expect_type: Any = None) -> Any: ...
