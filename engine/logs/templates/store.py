"""Keeping a miner's state on disk as plain JSON, so template keys stay the same across runs.

`logpt templates --state FILE` loads the state before mining and saves it
once after (never per cluster). Writes go to a temporary file that is
renamed over the old one, so a crash leaves the previous state. A state file
that cannot be read is set aside (renamed `.corrupt`) and mining starts
fresh: it is a cache, rebuilt from the log.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from engine.errors import InputError
from engine.logs.templates.miner import MinerConfig, TemplateMiner


class TemplateStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
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
