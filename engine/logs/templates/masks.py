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
_TLD = r"(?:com|net|org|edu|gov|mil|io|info|biz|cn|hk|jp|de|uk|fr|ru|in|br|au|ca|us|local|lan|internal)"


def _masks(rules: int) -> tuple[tuple[str, str], ...]:
    """The masks of a rules version (see `Masker`)."""
    # Rules 2 let an address end a sentence ("…msra-sa-41:8030. Already tried", "lease 10.0.0.1.").
    ip_end, end, port_end = (
        (r"(?![\w.])", r"(?![\w.-])", r"(?![\w.:-])")
        if rules == 1
        else (r"(?!\w|\.[\w.])", r"(?![\w-]|\.[\w.-])", r"(?![\w:-]|\.[\w.-])")
    )
    masks = [
        ("UUID", r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"),
        # Dates written in words: "Sun Jul 10 03:55:21 2005", "Jul 10 03:55:21", "Nov 21".
        ("DATE", rf"\b(?:{_DAY},? +)?{_MONTH} +\d{{1,2}}(?:,? +{_TIME})?(?: +[A-Z]{{3}})?(?:,? +\d{{4}})?\b"),
        # Numeric dates and ISO-8601 timestamps: 2026-11-21, 2026/11/21 10:00:12, 2026-11-21T09:58:02.114Z.
        ("TS", rf"(?<![\w.:-])\d{{4}}[-/.]\d{{2}}[-/.]\d{{2}}(?:[T ]{_TIME}(?:Z|[+-]\d{{2}}:?\d{{2}})?)?(?![\w:-])"),
        ("TIME", rf"(?<![\w:]){_TIME}(?![\w:])"),
        ("IP", rf"(?<![\w.]){IPV4}(?::\d{{1,5}})?{ip_end}"),
        ("MAC", r"(?<![\w:])(?:[0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}(?![\w:])"),
        (
            "IPV6",
            r"(?<![\w:])(?:(?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}|(?:[0-9a-fA-F]{1,4}:)*:(?::[0-9a-fA-F]{1,4})+)(?![\w:])",
        ),
        # host:port, and dotted host names with a common top-level domain.
        (
            "HOST",
            rf"(?<![\w.@/:-])(?:[A-Za-z0-9-]+\.)*[A-Za-z][A-Za-z0-9-]*:\d{{2,5}}{port_end}"
            rf"|(?<![\w.@/-])(?:[A-Za-z0-9-]+\.)+{_TLD}(?::\d{{1,5}})?{end}",
        ),
        ("BLK", rf"\b{HDFS_BLOCK}\b"),
        # Rules 2: an absolute path that holds a digit is one variable (the file or id in it varies, so it does).
        *([("PATH", r"(?<![\w.~/-])(?=/[\w.\-@+%~/]*\d)(?:/[\w.\-@+%~]+){2,}/?(?![\w/])")] if rules >= 2 else []),
        ("HEX", r"\b0[xX][0-9a-fA-F]+\b|\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b"),
        ("DUR", r"(?<![\w.])[<>]?\d+(?:\.\d+)? ?(?:ms|us|µs|ns|s|sec|secs|seconds|min|mins|minutes|h|hrs|hours)\b"),
        # 512KB, 4 GiB, "1190 bytes (1.16 KB)": a byte count and its human-readable form are one variable.
        (
            "SIZE",
            r"(?<![\w.])\d+(?:\.\d+)? ?(?:[KMGT]i?B|bytes|B)(?: \(\d+(?:\.\d+)? ?[KMGT]i?B\))?(?![\w.])"
            r"|(?<![\w.])\d+(?:\.\d+)?[kKMGT]\b",
        ),
        # Short device-like names (eth0, sda1, wl0, IPV6) name things rather than vary: they keep
        # their letters and lose only the digits ("eth<N>").
        ("DEV", r"(?<![\w.\-+@#%$~])[A-Za-z]{2,6}\d{1,2}(?![\w.\-+@#%$~])"),
        # Any other word that holds a digit: ids, numbers, versions, host-123, 2005-06-03… (rules 2: a
        # sentence's full stop is not part of it).
        ("NUM", r"(?<![\w.\-+@#%$~])[\w.\-+@#%$~]*\d[\w.\-+@#%$~]*" + ("" if rules == 1 else r"(?<!\.)")),
    ]
    return tuple(masks)


RULES = (1, 2)
MASKS = _masks(RULES[-1])
# Every mask starts where no word character comes before it; said once in front of them all, a position
# inside a word fails at one test instead of at each mask's own (the same matches, ~3x faster).
_PATTERNS = {
    rules: re.compile(r"(?<!\w)(?:" + "|".join(f"(?P<{name}>{regex})" for name, regex in _masks(rules)) + ")")
    for rules in RULES
}
# A run of the same placeholder ("<NUM> <NUM> <NUM>", "<IP>,<IP>") stands for one list-valued variable; in
# rules 2 also a run of the same id ("blk_<NUM> blk_<NUM>", "<IP>:<NUM>,<IP>:<NUM>").
_RUNS = {
    1: re.compile(r"(<[A-Z0-9]+>)(?:[ ,]+\1)+"),
    2: re.compile(r"(?<![\w./-])([\w./-]*<[A-Z0-9]+>(?::<NUM>)?)(?:[ ,]+\1)+"),
}
WILDCARD = "<*>"
_PLACEHOLDER = re.compile(r"<(?:\*|[A-Z0-9]+)>")
_DIGITS = bytes.maketrans(b"123456789", b"000000000")
_GLUED_UNIT = re.compile(r"[<>]?[\d.]+[A-Za-zµ]+")
_WORD_PREFIX = re.compile(r"[A-Za-z]+(?:_[A-Za-z]+)*_")


def _placeholder(match: re.Match[str]) -> str:
    if match.lastgroup == "DEV":
        return match.group().rstrip("0123456789") + "<N>"
    return f"<{match.lastgroup}>"


def _placeholder_2(match: re.Match[str]) -> str:
    """Rules 2: the placeholder covers what varies; a port, a glued unit, an id's word prefix stay as written.

    "10.0.0.1:8080" → "<IP>:<NUM>", "blk_-42" → "blk_<NUM>", "250ms" → "<NUM>ms",
    "attempt_1445_0020_m_000000_0" → "attempt_<NUM>". Like every mask it reads no digit's value.
    """
    kind, text = match.lastgroup, match.group()
    if kind in ("IP", "HOST") and ":" in text:
        return f"<{kind}>:<NUM>"
    if kind == "BLK":
        return "blk_<NUM>"
    if kind in ("DUR", "SIZE") and _GLUED_UNIT.fullmatch(text):
        return "<NUM>" + text.lstrip("<>0123456789.")
    if kind == "NUM" and (prefix := _WORD_PREFIX.match(text)) is not None:
        return prefix.group() + "<NUM>"
    return _placeholder(match)


@dataclass(frozen=True)
class Masker:
    """Replaces variables with `<NAME>` placeholders (or `<*>` when `typed` is False).

    `rules` picks a version of the masks: 1 is the first (a placeholder takes the whole token: "<IP>" for
    "10.0.0.1:8080", "<BLK>"), kept for template states saved with it, so their keys stay the same; 2 (the
    default) covers only what varies, as Loghub's templates do, and adds paths.
    """

    typed: bool = True
    rules: int = RULES[-1]

    def __post_init__(self) -> None:
        if self.rules not in RULES:
            raise ValueError(f"template rules {self.rules} are not known (known: {', '.join(map(str, RULES))})")

    def mask(self, message: str) -> str:
        masked = _PATTERNS[self.rules].sub(_placeholder_2 if self.rules >= 2 else _placeholder, message)
        masked = _RUNS[self.rules].sub(r"\1", masked)
        return masked if self.typed else as_wildcards(masked)


def digit_shape(message: str) -> bytes:
    """The message's UTF-8 bytes with every digit replaced by 0: the mining cache's key.

    (bytes.translate with a 256-byte table is several times faster than str.translate.)
    """
    return message.encode("utf-8", "surrogatepass").translate(_DIGITS)


def as_wildcards(template: str) -> str:
    """A template with every placeholder written as `<*>` (Loghub's convention)."""
    return _PLACEHOLDER.sub(WILDCARD, template)
