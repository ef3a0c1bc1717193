"""The one list of formats every caller chooses from: user formats, JSON lines, the built-ins.

User formats come from TOML files given by the caller (`--formats-file`) and
from the user config dir (`engine.logs.formats.user`); they come first, so
they win detection ties. `logpt templates`, `logpt detect`, `logpt train`,
the explorer, the detector pipeline and the digest all detect from this list.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from engine.logs.formats.builtin import builtin_formats
from engine.logs.formats.journal import JOURNAL_EXPORT
from engine.logs.formats.jsonlines import JSON_LINES
from engine.logs.formats.logfmt import LOGFMT
from engine.logs.formats.spec import LogFormat
from engine.logs.formats.user import load_user_formats


def all_formats(extra: Sequence[LogFormat] = ()) -> list[LogFormat]:
    """`extra` formats first (they win ties), then JSON lines, logfmt, journald export, then the built-ins."""
    return [*extra, JSON_LINES, LOGFMT, JOURNAL_EXPORT, *builtin_formats()]


def load_formats(files: Sequence[Path] = ()) -> list[LogFormat]:
    """User formats (from `files`, then the user config dir), JSON lines and the built-ins.

    A broken user format file is an InputError naming the file.
    """
    return all_formats(load_user_formats(list(files)))
