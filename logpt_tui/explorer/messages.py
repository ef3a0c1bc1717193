"""Messages that workers post to the app: small dataclasses, one per event.

Progress messages coalesce (Textual's `can_replace`): a newer one still in
the queue replaces the older one of its kind for the same receiver, so a fast
worker never floods the UI thread with states it would overwrite anyway.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from engine.analysis.reply import Reply


class Progress(Message):
    """A state that supersedes the previous one of its kind: only the newest in the queue is handled."""

    def can_replace(self, message: Message) -> bool:
        return type(message) is type(self)


@dataclass
class IndexProgress(Progress):
    """Bytes indexed so far."""

    done: int
    total: int


@dataclass
class SourceChanged(Message):
    """The file grew, was truncated, rotated or deleted (or was indexed for the first time)."""

    kind: str
    new_lines: int


@dataclass
class FileTouched(Message):
    """The watchdog observer saw the file (or its directory entry) change.

    Touches waiting in the queue together are one: a file written a hundred times a second (or the files of
    a merged view) asks for one refresh per turn of the queue, not one each."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, FileTouched)


@dataclass
class SearchResult(Message):
    """Where a search landed: a 0-based line, or None when nothing matched."""

    pattern: str
    line: int | None


@dataclass
class SearchCounted(Message):
    """The lines of one batch that the search matches (0-based, ascending), counted in a worker: `first` for the
    count's first batch, `done` for its last."""

    pattern: str
    lines: list[int]
    first: bool
    done: bool


@dataclass
class BackendReady(Message):
    """The analysis model loaded (error is set when it could not)."""

    error: str | None = None


@dataclass
class ChunksPlanned(Progress):
    """Chunk planning reached `planned` lines."""

    planned: int


@dataclass
class AnalysisPiece(Message):
    """More reply text for the analysis running under `key`."""

    key: tuple[int, str]
    text: str


@dataclass
class AnalysisProgress(Message):
    """The analysis running under `key` (the whole file's timeline) has read `done` of `total` lines."""

    key: tuple[int, str]
    done: int
    total: int


@dataclass
class AnalysisDone(Message):
    key: tuple[int, str]
    reply: Reply | str  # the reply, or why there is none


@dataclass
class FilterProgress(Progress):
    """The filter has looked at `done` lines."""

    done: int


class FlagStatus(Progress):
    """What the detector is doing: `working` (loading, self-training k/N, mining: `text`), `off` (no detector;
    `text` says why), `notice` (a warning to show once), `flood` (it samples a flood; the count says how many
    lines it skipped), `done` (the file is judged). A warning (`failed`) is never replaced by a later message."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, FlagStatus) and not message.failed

    def __init__(self, kind: str, text: str = "", *, failed: bool = False) -> None:
        super().__init__()
        self.kind, self.text, self.failed = kind, text, failed


class FlagsFound(Progress):
    """Every flag found so far (engine.detect.pipeline.Flag), with the lines judged: they replace the last ones."""

    def __init__(self, flags: list, upto: int) -> None:
        super().__init__()
        self.flags, self.upto = flags, upto


@dataclass
class TemplatesMined(Progress):
    """Template mining reached `done` lines."""

    done: int


@dataclass
class FormatDetected(Message):
    """The file's format, detected from its first lines."""

    name: str


@dataclass
class SearchRefused(Message):
    """The search, its count or the filter gave up on a pattern: too slow to run over the log (one line why)."""

    pattern: str  # the search's pattern ("" for the filter)
    reason: str
    filter: bool = False
