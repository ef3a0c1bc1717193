"""The `logpt` command line: each command builds a config and calls the engine.

`main()` turns known errors into one line with a hint and a non-zero exit.
"""

from __future__ import annotations

import sys

import click
import typer

from engine import __version__
from engine.errors import LogptError
from logpt_tui.cli.analyze import analyze
from logpt_tui.cli.console import err
from logpt_tui.cli.generate import generate
from logpt_tui.cli.models import import_app, models

app = typer.Typer(
    name="logpt",
    help="Local log explorer: analyse logs with a local GPT-2-family model. Nothing leaves the machine.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command()(analyze)
app.command()(generate)
app.command()(models)
app.add_typer(import_app, name="import")


def _version(value: bool) -> None:
    if value:
        print(f"logpt {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """Local log explorer."""


EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130


def main(argv: list[str] | None = None) -> None:
    try:
        app(args=argv, standalone_mode=False)
    except LogptError as e:
        err.print(f"[bold red]error:[/bold red] {e.message}" + (f" [dim]({e.hint})[/dim]" if e.hint else ""), markup=True)
        sys.exit(EXIT_USER_ERROR)
    except click.exceptions.Abort:
        err.print("\ninterrupted")
        sys.exit(EXIT_INTERRUPTED)
    except KeyboardInterrupt:
        err.print("\ninterrupted")
        sys.exit(EXIT_INTERRUPTED)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away (e.g. `| head`): not an error
        sys.exit(0)
