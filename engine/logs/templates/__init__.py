"""Template mining: messages → stable template ids ("log keys")."""

from engine.logs.templates.masks import Masker, as_wildcards, digit_shape
from engine.logs.templates.miner import MinerConfig, Template, TemplateMiner

__all__ = ["Masker", "MinerConfig", "Template", "TemplateMiner", "as_wildcards", "digit_shape"]
