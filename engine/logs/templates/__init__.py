"""Template mining: messages → stable template ids ("log keys").

`miner` wraps drain3 behind a typed API with an explicit config, `masks`
replaces variables before it sees a message, `drain` is drain3's Drain with a
word-aware similarity, `store` keeps a miner's state as JSON between runs, and
`summary` counts per template (`logpt templates` and the digest).
"""

from engine.logs.templates.masks import Masker, as_wildcards, digit_shape
from engine.logs.templates.miner import MinerConfig, Template, TemplateMiner

__all__ = ["Masker", "MinerConfig", "Template", "TemplateMiner", "as_wildcards", "digit_shape"]
