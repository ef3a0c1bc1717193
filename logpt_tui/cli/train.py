"""`logpt train …`: fit models on your own data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from engine.detector import Detector
from engine.errors import InputError, LogptError
from engine.formats import parse_lines
from engine.registry import output_folder
from engine.sessions import SessionSpec, group_sessions
from engine.templates import TemplateMiner
from engine.textio import read_log, split_lines
from logpt_tui.cli.console import err, friendly, out
from logpt_tui.cli.templates import FormatOpt, FormatsFileOpt, choose_format

train_app = typer.Typer(help="Train logpt's models on your data.", no_args_is_help=True)


@train_app.command("detector")
@friendly
def train_detector_command(
    out_name: Annotated[str, typer.Argument(metavar="OUT", help="Bundle name (user models dir) or folder path.")],
    *,
    log: Annotated[Path | None, typer.Option(help="A log of normal operation: parsed, mined and sessionised.")] = None,
    sessions_file: Annotated[
        Path | None, typer.Option(help="Pre-parsed sessions instead: one per line, keys separated by spaces.")
    ] = None,
    session: Annotated[str | None, typer.Option(help="With --log: an id regex, 'component' or 'window:N'.")] = None,
    epochs: Annotated[int, typer.Option(min=1, help="Epochs at most (early stopping on validation loss).")] = 20,
    target_fpr: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of held-out sessions allowed to be flagged.")
    ] = 0.001,
    log_format: FormatOpt = None,
    formats_file: FormatsFileOpt = None,
) -> None:
    """Train a next-key detector on normal sessions; the best-validation weights are saved."""
    from train.detector import DetectorTrainConfig, fit_detector  # noqa: PLC0415 - only the CLI touches train, lazily

    if (log is None) == (sessions_file is None):
        raise LogptError("pass either --log FILE or --sessions-file FILE", "see `logpt train detector --help`")
    miner, spec = None, None
    if log is not None:
        lines = split_lines(read_log(log))
        fmt = choose_format(lines, log_format, formats_file)
        miner = TemplateMiner()
        keyed = [(r, str(miner.add(r.message))) for r in parse_lines(lines, fmt)]
        spec = SessionSpec.parse(session) if session else SessionSpec.default_for(fmt.name)
        sessions = [s.keys for s in group_sessions(keyed, spec)]
        source = f"{log} ({fmt.name}, sessions {spec.describe()})"
    else:
        assert sessions_file is not None
        sessions = [line.split() for line in split_lines(read_log(sessions_file)) if line.strip()]
        source = str(sessions_file)
    if len(sessions) < 10:
        raise InputError(f"only {len(sessions)} sessions", "a detector needs at least 10 sessions to learn from")
    complete = spec is None or spec.kind == "id"
    config = DetectorTrainConfig(epochs=epochs)
    columns = (
        TextColumn("epoch"),
        MofNCompleteColumn(),
        BarColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err) as progress:
        task = progress.add_task("", total=epochs)
        model, vocab, topk = fit_detector(
            sessions, config, complete=complete, target_fpr=target_fpr,
            on_epoch=lambda r: progress.update(
                task, completed=r.epoch, description=f"train {r.train_loss:.4f} · val {r.val_loss:.4f}" + (" ★" if r.best else "")
            ),
        )  # fmt: skip
    detector = Detector(
        model, vocab, topk,
        templates={str(t.key): t.text for t in miner.templates()} if miner else {},
        provenance={"data": source, "sessions": len(sessions), "epochs_max": epochs, "target_fpr": target_fpr},
        sessions={"kind": spec.kind, "pattern": spec.pattern, "size": spec.size, "complete": complete} if spec else {"complete": True},
        miner_state=miner.to_state() if miner else None,
    )  # fmt: skip
    target = output_folder(out_name)
    detector.save(target)
    out.print(f"wrote {target}: {len(vocab) - 4} keys, {len(sessions)} sessions, rule {topk.describe()}")
