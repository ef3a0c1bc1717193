"""Terminal output helpers shared by the CLI commands."""

from __future__ import annotations

import re
import sys

from rich.console import Console

# Everything a terminal could interpret except newline and tab: C0, DEL, C1.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def visible(text: str) -> str:
    """Control characters (escape sequences included) shown as `^[`-style text, never interpreted."""
    return _CONTROL.sub(lambda m: "^" + chr((ord(m.group()) + 64) % 128) if ord(m.group()) < 128 else f"\\x{ord(m.group()):02x}", text)


def write_raw(text: str) -> None:
    """Stream text to stdout as is (no markup), made terminal-safe."""
    sys.stdout.write(visible(text))
    sys.stdout.flush()


def interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()
