"""`logpt eval …`: accuracy of logpt's components against labelled data."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from logpt_tui.cli.console import err, friendly, out
from logpt_tui.cli.options import JsonOpt

eval_app = typer.Typer(help="Measure logpt against labelled data.", no_args_is_help=True)


@eval_app.command("parser")
@friendly
def eval_parser(
    *,
    loghub: Annotated[Path, typer.Option(help="Folder with <System>/<System>_2k.log and its _structured.csv.")],
    as_json: JsonOpt = False,
) -> None:
    """Grouping and parsing accuracy of template mining, per system, formats auto-detected."""
    from train.parser_eval import evaluate_loghub  # noqa: PLC0415 - only the CLI touches train, lazily

    with err.status("mining…") as status:
        scores = evaluate_loghub(loghub, on_system=lambda s: status.update(f"mined {s.system}…"))
    mean_ga = sum(s.grouping_accuracy for s in scores) / len(scores)
    mean_pa = sum(s.parsing_accuracy for s in scores) / len(scores)
    if as_json:
        print(
            json.dumps(
                {
                    "systems": [asdict(s) for s in scores],
                    "mean_grouping_accuracy": mean_ga,
                    "mean_parsing_accuracy": mean_pa,
                }
            )
        )
        return
    table = Table("system", "format", "lines", "true templates", "found", "GA", "PA")
    for s in scores:
        table.add_row(
            s.system, s.format, str(s.lines), str(s.templates_true), str(s.templates_found),
            f"{s.grouping_accuracy:.3f}", f"{s.parsing_accuracy:.3f}",
        )  # fmt: skip
    table.add_row("[bold]mean[/bold]", "", "", "", "", f"[bold]{mean_ga:.3f}[/bold]", f"[bold]{mean_pa:.3f}[/bold]")
    out.print(table)
