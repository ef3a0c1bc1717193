"""Keeping a miner's state on disk as plain JSON, so template keys stay the same across runs.

`logpt templates --state FILE` loads the state before mining and saves it once after (never per cluster),
holding a lock beside it (`FILE.lock`) from load to save, so a second run on the same state is refused instead
of one run's templates silently replacing the other's. Only a logpt template state is ever written: a file
that is not one (a log, notes, a folder, anything unreadable) is refused with a one-line error and left as it
is, as is a state whose ids do not fit together (a reused key would name two templates). Writes go to a
temporary file that is renamed over the old one, so a crash leaves the previous state.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from types import TracebackType

from engine.errors import InputError
from engine.logs.templates.miner import MinerConfig, TemplateMiner
from engine.sidefiles import read_json, write_replacing

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; a second writer is not detected there
    fcntl = None  # type: ignore[assignment]

HINT = "pass --state a new file name, or one an earlier `logpt templates --state` wrote"


class TemplateStore:
    """One template state file; use it as a context manager to hold its lock while mining."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock: int | None = None

    def __enter__(self) -> TemplateStore:
        self.lock()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.unlock()

    def lock(self) -> None:
        """Take the state's lock, or refuse at once when another run holds it."""
        if fcntl is None or self._lock is not None:
            return
        lock_path = self.path.with_name(self.path.name + ".lock")
        try:
            lock_path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as e:
            raise InputError(f"cannot lock template state {self.path}: {e.strerror or e}", HINT) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise InputError(f"template state {self.path} is in use by another logpt run", "wait for it, or pass "
                             "another --state") from None  # fmt: skip
        self._lock = fd

    def unlock(self) -> None:
        if self._lock is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.path.with_name(self.path.name + ".lock"))
            os.close(self._lock)
            self._lock = None

    def load(self, config: MinerConfig | None = None) -> TemplateMiner:
        """The saved miner, or a fresh one when the file does not exist yet; InputError for anything else."""
        if not self.path.exists() and not self.path.is_symlink():
            return TemplateMiner(config)
        state = read_json(self.path, "template state", HINT)
        if not isinstance(state, dict) or "clusters" not in state or "next_id" not in state:
            raise InputError(f"{self.path} is not a logpt template state", HINT)
        try:
            return TemplateMiner.from_state(state)
        except InputError as e:
            raise InputError(f"template state {self.path}: {e.message}", HINT) from None

    def save(self, miner: TemplateMiner) -> None:
        """Write the state (the file must be a state or not exist: `load` checked it, and nothing else is replaced)."""
        try:
            write_replacing(self.path, lambda out: out.write(json.dumps(miner.to_state())))
        except OSError as e:
            raise InputError(f"cannot save template state {self.path}: {e.strerror or e}", HINT) from None
        miner.dirty = False
