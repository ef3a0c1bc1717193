"""The `logpt` command line: each command builds a config and calls the engine.

(The explorer does not import this package: it would load torch for nothing.)

Every command is wrapped by `friendly`, which turns known errors into one
line with a hint and exit code 2, and Ctrl-C into a clean stop (exit 130).
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from engine import __version__
from logpt_tui.cli.analyze import analyze
from logpt_tui.cli.console import friendly
from logpt_tui.cli.detect import detect
from logpt_tui.cli.evaluate import eval_app
from logpt_tui.cli.generate import generate
from logpt_tui.cli.models import import_app, models
from logpt_tui.cli.stream import serve, ship
from logpt_tui.cli.templates import templates
from logpt_tui.cli.train import train_app

app = typer.Typer(
    name="logpt",
    help="Local log explorer: analyse logs with a local GPT-2-family model. Nothing leaves the machine.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command()(friendly(analyze))
app.command()(friendly(generate))
app.command()(friendly(models))
app.command()(friendly(templates))
app.command()(friendly(detect))
app.command()(friendly(ship))
app.command()(friendly(serve))
app.add_typer(import_app, name="import")
app.add_typer(eval_app, name="eval")
app.add_typer(train_app, name="train")


@app.command("tui")
def tui(
    files: Annotated[list[str], typer.Argument(help="Log files, each in a tab; - reads stdin.")],
    *,
    theme: Annotated[str | None, typer.Option(help="A Textual theme, e.g. textual-light or nord (remembered).")] = None,
    no_model: Annotated[bool, typer.Option("--no-model", help="Do not load the analysis model.")] = False,
    no_flags: Annotated[bool, typer.Option("--no-flags", help="Do not run the anomaly detector.")] = False,
) -> None:
    """Open logs in the explorer (the same as `logpt-tui FILE [FILE…]`)."""
    from logpt_tui.explorer.app import main as tui_main  # noqa: PLC0415 - Textual loads only for the explorer

    options = [*(["--theme", theme] if theme else []), *(["--no-model"] if no_model else []),
               *(["--no-flags"] if no_flags else [])]  # fmt: skip
    tui_main([*options, "--", *files])


def _version(value: bool) -> None:
    if value:
        print(f"logpt {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """Local log explorer."""


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `logpt` script; Typer handles usage errors, `friendly` the rest."""
    try:
        app(args=argv)
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): not an error. Point stdout at devnull so the
        # interpreter's final flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
