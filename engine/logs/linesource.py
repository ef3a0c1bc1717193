"""What the explorer reads a log's lines from: one file (`LogSource`) or several merged by time
(`MergedSource`). Both meet `LineSource`, so a caller never asks which one it holds."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from engine.logs.logsource import Change


class LineSource(Protocol):
    """Numbered lines (0-based) of one file or of a merged view, read in blocks, indexed and followed."""

    path: Path  # the file; for a merged view, a name for it (no file there)

    @property
    def paths(self) -> Sequence[Path]:
        """The files read: watched for appends, refused as an export's target."""
        ...

    @property
    def names(self) -> Sequence[str] | None:
        """The name shown beside each row's file in a merged view; None for one file."""
        ...

    @property
    def untimed(self) -> Sequence[str]:
        """Files of a merged view in which no line had a time (their lines go first); empty for one file."""
        ...

    @property
    def size(self) -> int: ...

    def __len__(self) -> int: ...

    def line(self, i: int) -> str: ...

    def block(self, a: int, b: int) -> list[str]: ...

    def tail(self, max_bytes: int = ...) -> list[str]: ...

    def origin(self, i: int) -> tuple[int, int]:
        """Row i's file (an index into `paths`) and its 0-based line there."""
        ...

    def index(self, on_progress: Callable[[int, int], None] | None = None) -> int: ...

    def refresh(self) -> Change: ...

    def close(self) -> None: ...
