"""Masks that replace variable parts of a message before template mining.

Every mask treats all digits alike (it never tests a digit's value), so two
messages that differ only in their digits mask to the same text. That is what
makes the digit-shape cache in `TemplateMiner` exact: the cache key is the
message with every digit replaced by 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.logs.patterns import HDFS_BLOCK, IPV4

# Ordered: the first alternative that matches at a position wins.
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_DAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_TIME = r"\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?"
MASKS: tuple[tuple[str, str], ...] = (
    ("UUID", r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"),
    # Dates written in words: "Sun Jul 10 03:55:21 2005", "Jul 10 03:55:21", "Nov 21".
    ("DATE", rf"\b(?:{_DAY},? +)?{_MONTH} +\d{{1,2}}(?:,? +{_TIME})?(?: +[A-Z]{{3}})?(?:,? +\d{{4}})?\b"),
    # Numeric dates and ISO-8601 timestamps: 2026-11-21, 2026/11/21 10:00:12, 2026-11-21T09:58:02.114Z.
    ("TS", rf"(?<![\w.:-])\d{{4}}[-/.]\d{{2}}[-/.]\d{{2}}(?:[T ]{_TIME}(?:Z|[+-]\d{{2}}:?\d{{2}})?)?(?![\w:-])"),
    ("TIME", rf"(?<![\w:]){_TIME}(?![\w:])"),
    ("IP", rf"(?<![\w.]){IPV4}(?::\d{{1,5}})?(?![\w.])"),
    ("MAC", r"(?<![\w:])(?:[0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}(?![\w:])"),
    (
        "IPV6",
        r"(?<![\w:])(?:(?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}|(?:[0-9a-fA-F]{1,4}:)*:(?::[0-9a-fA-F]{1,4})+)(?![\w:])",
    ),
    # host:port, and dotted host names with a common top-level domain.
    (
        "HOST",
        r"(?<![\w.@/:-])(?:[A-Za-z0-9-]+\.)*[A-Za-z][A-Za-z0-9-]*:\d{2,5}(?![\w.:-])|(?<![\w.@/-])(?:[A-Za-z0-9-]+\.)+(?:com|net|org|edu|gov|mil|io|info|biz|cn|hk|jp|de|uk|fr|ru|in|br|au|ca|us|local|lan|internal)(?::\d{1,5})?(?![\w.-])",
    ),
    ("BLK", rf"\b{HDFS_BLOCK}\b"),
    ("HEX", r"\b0[xX][0-9a-fA-F]+\b|\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b"),
    ("DUR", r"(?<![\w.])[<>]?\d+(?:\.\d+)? ?(?:ms|us|µs|ns|s|sec|secs|seconds|min|mins|minutes|h|hrs|hours)\b"),
    # 512KB, 4 GiB, "1190 bytes (1.16 KB)": a byte count and its human-readable form are one variable.
    (
        "SIZE",
        r"(?<![\w.])\d+(?:\.\d+)? ?(?:[KMGT]i?B|bytes|B)(?: \(\d+(?:\.\d+)? ?[KMGT]i?B\))?(?![\w.])|(?<![\w.])\d+(?:\.\d+)?[kKMGT]\b",
    ),
    # Short device-like names (eth0, sda1, wl0, IPV6) name things rather than vary: they keep
    # their letters and lose only the digits ("eth<N>").
    ("DEV", r"(?<![\w.\-+@#%$~])[A-Za-z]{2,6}\d{1,2}(?![\w.\-+@#%$~])"),
    # Any other word that holds a digit: ids, numbers, versions, host-123, 2005-06-03…
    ("NUM", r"(?<![\w.\-+@#%$~])[\w.\-+@#%$~]*\d[\w.\-+@#%$~]*"),
)

_PATTERN = re.compile("|".join(f"(?P<{name}>{regex})" for name, regex in MASKS))
# A run of the same placeholder ("<NUM> <NUM> <NUM>", "<IP>,<IP>") stands for one list-valued variable.
_RUNS = re.compile(r"(<[A-Z0-9]+>)(?:[ ,]+\1)+")
WILDCARD = "<*>"
_PLACEHOLDER = re.compile(r"<(?:\*|[A-Z0-9]+)>")
_DIGITS = bytes.maketrans(b"123456789", b"000000000")


def _placeholder(match: re.Match[str]) -> str:
    if match.lastgroup == "DEV":
        return match.group().rstrip("0123456789") + "<N>"
    return f"<{match.lastgroup}>"


@dataclass(frozen=True)
class Masker:
    """Replaces variables with `<NAME>` placeholders (or `<*>` when `typed` is False)."""

    typed: bool = True

    def mask(self, message: str) -> str:
        masked = _PATTERN.sub(_placeholder, message)
        masked = _RUNS.sub(r"\1", masked)
        return masked if self.typed else as_wildcards(masked)


def digit_shape(message: str) -> bytes:
    """The message's UTF-8 bytes with every digit replaced by 0: the mining cache's key.

    (bytes.translate with a 256-byte table is several times faster than str.translate.)
    """
    return message.encode("utf-8", "surrogatepass").translate(_DIGITS)


def as_wildcards(template: str) -> str:
    """A template with every placeholder written as `<*>` (Loghub's convention)."""
    return _PLACEHOLDER.sub(WILDCARD, template)
