"""Masks that replace variable parts of a message before template mining.

Every mask treats all digits alike (it never tests a digit's value), so two
messages that differ only in their digits mask to the same text. That is what
makes the digit-shape cache in `TemplateMiner` exact: the cache key is the
message with every digit replaced by 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Ordered: the first alternative that matches at a position wins.
MASKS: tuple[tuple[str, str], ...] = (
    ("UUID", r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"),
    ("IP", r"(?<![\w.])\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?::\d{1,5})?(?![\w.])"),
    ("IPV6", r"(?<![\w:])(?:[0-9a-fA-F]{1,4}:){2,7}[0-9a-fA-F]{1,4}(?![\w:])"),
    ("BLK", r"\bblk_-?\d+\b"),
    ("HEX", r"\b0[xX][0-9a-fA-F]+\b|\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b"),
    ("DUR", r"(?<![\w.])\d+(?:\.\d+)?(?:ms|us|µs|ns|s|sec|secs|seconds|min|mins|minutes|h|hours)\b"),
    ("SIZE", r"(?<![\w.])\d+(?:\.\d+)?(?:[KMGT]i?B|[kKMGT]|bytes|B)\b"),
    # Any other word that holds a digit: ids, numbers, versions, host-123, 2005-06-03…
    ("NUM", r"[\w.\-+@#%$~]*\d[\w.\-+@#%$~]*"),
)

_PATTERN = re.compile("|".join(f"(?P<{name}>{regex})" for name, regex in MASKS))
WILDCARD = "<*>"
_DIGITS = str.maketrans("123456789", "000000000")


@dataclass(frozen=True)
class Masker:
    """Replaces variables with `<NAME>` placeholders (or `<*>` when `typed` is False)."""

    typed: bool = True

    def mask(self, message: str) -> str:
        if self.typed:
            return _PATTERN.sub(lambda m: f"<{m.lastgroup}>", message)
        return _PATTERN.sub(WILDCARD, message)


def digit_shape(message: str) -> str:
    """The message with every digit replaced by 0: the mining cache's key."""
    return message.translate(_DIGITS)


def as_wildcards(template: str) -> str:
    """A template with every placeholder written as `<*>` (Loghub's convention)."""
    return re.sub(r"<(?:\*|" + "|".join(name for name, _ in MASKS) + r")>", WILDCARD, template)
