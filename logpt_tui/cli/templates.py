"""`logpt templates FILE`: the log's templates with counts, line range and an example."""

from __future__ import annotations

import contextlib
import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from engine.logs.formats import LogFormat, choose_format, parse_lines
from engine.logs.templates import TemplateMiner
from engine.logs.templates.store import TemplateStore
from engine.logs.templates.summary import TemplateSummary, summarize
from engine.logs.textio import read_lines
from logpt_tui.cli.console import err, out, safe
from logpt_tui.cli.options import FormatOpt, FormatsFileOpt, JsonOpt


def templates(
    file: Annotated[Path, typer.Argument(help="Log file.")],
    *,
    limit: Annotated[int, typer.Option(min=1, help="Rows to show (all with --json).")] = 50,
    log_format: FormatOpt = None,
    formats_file: FormatsFileOpt = None,
    state: Annotated[
        Path | None,
        typer.Option(help="Template state (JSON) to start from and save to: keys stay the same across runs."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """List a log's templates: count, first and last line, worst level and an example."""
    lines = read_lines(file)
    fmt = choose_format(lines, log_format, formats_file or ())
    with TemplateStore(state) if state else contextlib.nullcontext() as store:  # locked from load to save
        summaries = _mine(lines, fmt, store.load() if store else TemplateMiner(), store, quiet=as_json)
    if as_json:
        for s in summaries:
            print(json.dumps(asdict(s)))
        return
    err.print(f"[dim]{safe(file)}: {len(lines)} lines · format {safe(fmt.name)} · {len(summaries)} templates[/dim]")
    table = Table("key", "count", "lines", "level", "template", "example", show_lines=False)
    for s in summaries[:limit]:
        table.add_row(
            str(s.key), str(s.count), f"{s.first_line}–{s.last_line}", s.level or "",
            safe(s.template), safe(s.example[:80]),
        )  # fmt: skip
    out.print(table)
    if len(summaries) > limit:
        err.print(f"[dim]… {len(summaries) - limit} more (use --limit or --json)[/dim]")


def _mine(lines: list[str], fmt: LogFormat, miner: TemplateMiner, store: TemplateStore | None, *, quiet: bool
          ) -> list[TemplateSummary]:  # fmt: skip
    with Progress(
        TextColumn("mining"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=err, transient=True,
        disable=quiet or len(lines) < 50_000,
    ) as progress:  # fmt: skip
        task = progress.add_task("lines", total=len(lines))
        step = max(1, len(lines) // 200)
        summaries = summarize(
            parse_lines(lines, fmt),
            miner,
            on_record=lambda r: progress.update(task, completed=r.end_line) if r.line % step == 0 else None,
        )
    if store:
        store.save(miner)
    return summaries
