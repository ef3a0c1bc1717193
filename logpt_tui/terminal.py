"""Terminal safety: log text is shown, never interpreted by the terminal."""

from __future__ import annotations

import re

# Everything a terminal could interpret except newline and tab: C0, DEL, C1.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _show(match: re.Match[str]) -> str:
    code = ord(match.group())
    return "^" + chr((code + 64) % 128) if code < 128 else f"\\x{code:02x}"


def visible(text: str) -> str:
    """Control characters (escape sequences included) as `^[`-style text."""
    return _CONTROL.sub(_show, text)
