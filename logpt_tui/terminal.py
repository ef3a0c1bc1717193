"""Terminal safety: text from logs, models and files is shown, never interpreted by the terminal.

`visible` is the one sanitiser for every CLI printer and explorer widget that
shows log-derived or model text: C0 and C1 control characters (escape
sequences included, so no OSC title or clipboard write, no cursor movement)
become `^[`-style text, and Unicode format characters (bidi overrides and
isolates, zero-width characters, the BOM) become `<U+202E>`, so a line cannot
reorder or hide what is shown around it. Newline and tab stay. Characters
whose width terminals disagree on are made unambiguous, so what follows a
line on screen (the minimap, the scrollbar) stays in its column: text is
shown composed (NFC: `e` + U+0301 as `é`), a flag (a pair of regional
indicators, 2 to 4 cells by terminal) as `[flag DE]`, and emoji/text
variation selectors are left out. Markup is a
separate matter: data is never parsed as Rich or Textual markup (callers
escape it or build `Text` objects).
"""

from __future__ import annotations

import re
import unicodedata

# Everything a terminal could interpret except newline and tab: C0, DEL, C1.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Unicode format characters (category Cf) that reorder or hide text; listed, so the check stays one regex.
_FORMAT = re.compile(
    "[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)


_WIDE_AMBIGUOUS = re.compile("[\U0001f1e6-\U0001f1ff]{1,2}|[\ufe0e\ufe0f]")


def _show_ambiguous(match: re.Match[str]) -> str:
    text = match.group()
    if text in "\ufe0e\ufe0f":
        return ""
    return "[flag " + "".join(chr(ord(c) - 0x1F1E6 + ord("A")) for c in text) + "]"


def _show(match: re.Match[str]) -> str:
    code = ord(match.group())
    return "^" + chr((code + 64) % 128) if code < 128 else f"\\x{code:02x}"


def _show_format(match: re.Match[str]) -> str:
    return f"<U+{ord(match.group()):04X}>"


def visible(text: str) -> str:
    """Control characters as `^[`-style text and format characters (bidi, zero-width) as `<U+XXXX>`."""
    text = _CONTROL.sub(_show, text)
    if text.isascii():
        return text
    text = _WIDE_AMBIGUOUS.sub(_show_ambiguous, unicodedata.normalize("NFC", text))
    return _FORMAT.sub(_show_format, text)


def is_format_character(char: str) -> bool:
    """Whether `visible` shows `char` as `<U+XXXX>` (for tests: every Cf character is covered)."""
    return unicodedata.category(char) == "Cf"
