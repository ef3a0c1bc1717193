"""Keeping a miner's state on disk as plain JSON: on a timer and at exit, never per cluster.

`TemplateStore.maybe_save(miner)` writes only when templates changed and the
interval has passed since the last write; `save` writes now. Writes go to a
temporary file that is renamed over the old one, so a crash leaves the
previous state. A state file that cannot be read is set aside (renamed
`.corrupt`) and mining starts fresh: it is a cache, rebuilt from the log.
The clock is injected so tests need no sleeping.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

from engine.errors import InputError
from engine.logs.templates.miner import MinerConfig, TemplateMiner


class TemplateStore:
    def __init__(self, path: Path, *, interval_s: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.path = Path(path)
        self.interval_s = interval_s
        self._clock = clock
        self._last_save = clock()
        self.problem = ""  # why a state file was set aside, if one was

    def load(self, config: MinerConfig | None = None) -> TemplateMiner:
        """The saved miner, or a fresh one when there is no usable state."""
        try:
            state = json.loads(self.path.read_text(encoding="utf-8"))
            return TemplateMiner.from_state(state)
        except FileNotFoundError:
            return TemplateMiner(config)
        except (OSError, UnicodeDecodeError, ValueError, InputError) as e:
            self.problem = f"template state {self.path} was unreadable ({e}); started afresh"
            with contextlib.suppress(OSError):  # setting it aside is a courtesy; starting afresh is what matters
                os.replace(self.path, self.path.with_name(self.path.name + ".corrupt"))
            return TemplateMiner(config)

    def save(self, miner: TemplateMiner) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(miner.to_state()), encoding="utf-8")
        os.replace(tmp, self.path)
        miner.dirty = False
        self._last_save = self._clock()

    def maybe_save(self, miner: TemplateMiner) -> bool:
        """Save if templates changed and the interval has passed; True when it saved."""
        if miner.dirty and self._clock() - self._last_save >= self.interval_s:
            self.save(miner)
            return True
        return False
