"""Next-key anomaly detection over template keys (LogGPT / LogNEO top-K).

`vocab` (keys ↔ ids), `scoring` (ranks and probabilities in windows; the
top-K rule), `detector` (model + vocabulary + rule + session rule, saved as
a bundle through `engine.lm.bundle`), `fit` (training on normal sessions),
`history` (self-training on a file's own history), `unusual` and `textseq`
(the pretrained line and sequence models), `evidence` (what flags a line)
and `pipeline` (the one recipe: mine → sessions → load-or-self-train → judge
→ flags).

The names below load on first use (PEP 562), so importing a torch-free part
(`evidence`, `defaults`) does not import torch: `logpt --help` starts fast.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {"Detector": "detector", "SessionVerdict": "detector", "Verdict": "detector", "TopK": "scoring",
          **dict.fromkeys(("BOS", "END", "EOS", "PAD", "UNK", "KeyVocab"), "vocab")}  # fmt: skip
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:  # noqa: ANN401 - whatever the submodule holds
    if name in _WHERE:
        return getattr(importlib.import_module(f"engine.detect.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'engine.detect' has no attribute {name!r}")
