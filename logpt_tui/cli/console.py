"""Terminal output helpers shared by the CLI commands."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from engine.errors import LogptError
from logpt_tui.terminal import visible

P = ParamSpec("P")
R = TypeVar("R")
EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130


out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def safe(text: object) -> str:
    """Data for a Rich markup string: terminal-safe (`visible`) and never parsed as markup."""
    return escape(visible(str(text)))


def write_raw(text: str) -> None:
    """Stream text to stdout as is (no markup), made terminal-safe."""
    sys.stdout.write(visible(text))
    sys.stdout.flush()


def error_line(e: LogptError) -> Text:
    """`error: message (hint)`, built as styled text: paths and names in it are never parsed as markup."""
    line = Text.assemble(("error:", "bold red"), " ", visible(e.message))
    if e.hint:
        line.append(f" ({visible(e.hint)})", style="dim")
    return line


def interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def friendly(command: Callable[P, R]) -> Callable[P, R]:
    """Run a command body, turning LogptError into one line and Ctrl-C into a clean stop."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except LogptError as e:
            err.print(error_line(e))
            raise typer.Exit(EXIT_USER_ERROR) from None
        except BrokenPipeError:
            raise  # the reader went away (`| head`): the entry point ends quietly
        except OSError as e:  # a full disk, a read-only folder, a path that went away while writing
            where = f" {e.filename}" if e.filename else ""
            err.print(error_line(LogptError(f"cannot write or read{where}: {e.strerror or e}", "check the path, its "
                                            "permissions and free space")))  # fmt: skip
            raise typer.Exit(EXIT_USER_ERROR) from None
        except (KeyboardInterrupt, typer.Abort):  # Ctrl-C, also at a `Continue?` prompt
            sys.stdout.write("\n")
            err.print("[dim]interrupted[/dim]")
            raise typer.Exit(EXIT_INTERRUPTED) from None

    return wrapper
