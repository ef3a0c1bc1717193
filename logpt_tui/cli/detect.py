"""`logpt detect FILE`: flag anomalous lines with a detector bundle or one trained on the file itself.

Parses arguments, runs `engine.detect.pipeline` (the explorer runs the same
one) and prints; nothing else.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn

from engine.detect import Detector
from engine.detect.pipeline import DetectConfig, DetectionPipeline, SessionBook
from engine.errors import InputError, LogptError
from engine.lm.registry import find_bundle, output_folder
from engine.logs.formats import choose_format
from engine.logs.sessions import SessionSpec
from engine.logs.textio import read_log, split_lines
from logpt_tui.cli.console import err, out, safe
from logpt_tui.cli.options import ForceOpt, FormatOpt, FormatsFileOpt, JsonOpt


def detect(
    file: Annotated[Path, typer.Argument(help="Log file.")],
    *,
    detector: Annotated[str | None, typer.Option(help="Detector bundle (name or folder).")] = None,
    self_train: Annotated[
        bool, typer.Option("--self-train", help="Train a detector on this file's own history first.")
    ] = False,
    session: Annotated[
        str | None, typer.Option(help="How to form sessions: an id regex (blk_-?\\d+), 'component' or 'window:N'.")
    ] = None,
    save: Annotated[
        str | None, typer.Option(help="With --self-train: save the detector under this name or path.")
    ] = None,
    epochs: Annotated[int, typer.Option(min=1, help="Self-training epochs at most.")] = 20,
    force: ForceOpt = False,
    log_format: FormatOpt = None,
    formats_file: FormatsFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Print flagged lines with their template, rank, probability and the expected templates."""
    if (detector is None) == (not self_train):
        raise LogptError("pass either --detector BUNDLE or --self-train", "see `logpt detect --help`")
    lines = split_lines(read_log(file))
    if not lines:
        raise InputError(f"{file} is empty", "nothing to check")
    fmt = choose_format(lines, log_format, formats_file or ())
    config = DetectConfig(session=SessionSpec.parse(session) if session else None, epochs=epochs)
    loaded = Detector.load(find_bundle(detector, kind="detector")) if detector else None
    pipeline = _prepare(lines, fmt, loaded, config, file, quiet=as_json)
    if loaded is None and save:
        pipeline.detector.save(output_folder(save), force=force)
        err.print(f"[dim]saved detector to {safe(output_folder(save))}[/dim]")
    book = pipeline.judge(lines, keep_verdicts=True)
    if as_json:
        _print_json(book, pipeline.templates())
    else:
        _print_flags(book, pipeline, file, len(lines))


def _prepare(lines, fmt, loaded, config: DetectConfig, file: Path, *, quiet: bool) -> DetectionPipeline:  # noqa: ANN001
    if loaded is not None:
        return DetectionPipeline.prepare(lines, fmt, detector=loaded, config=config)
    with Progress(
        TextColumn("self-training"), BarColumn(), TextColumn("{task.description}"),
        console=err, transient=True, disable=quiet,
    ) as progress:  # fmt: skip
        task = progress.add_task("", total=config.epochs)
        return DetectionPipeline.prepare(
            lines, fmt, config=config, trained_on=f"{file} (self-training)",
            on_epoch=lambda r: progress.update(task, completed=r.epoch, description=f"epoch {r.epoch} val loss {r.val_loss:.3f}"),
        )  # fmt: skip


def _print_flags(book: SessionBook, pipeline: DetectionPipeline, file: Path, n_lines: int) -> None:
    verdicts = book.session_verdicts()
    err.print(
        f"[dim]{safe(file)}: {n_lines} lines · format {safe(pipeline.fmt.name)} · {len(verdicts)} sessions "
        f"{safe(pipeline.spec.describe())} · {pipeline.detector.topk.describe()} · "
        f"{sum(v.flagged for _, v in verdicts)} sessions flagged[/dim]"
    )
    for flag in book.flags():
        record = book.records.get(flag.line)
        what = (
            "session ended early"
            if flag.reason == "session ended early" or record is None
            else safe(record.message.partition("\n")[0][:160])
        )
        expected = "; ".join(safe(t[:60]) for t in flag.expected[:2])
        out.print(
            f"[bold red]{flag.line:>7}[/bold red] [dim]{safe(flag.session)}[/dim] {what}\n"
            f"        [yellow]{safe(flag.reason)}[/yellow] · expected: {expected}"
        )


def _print_json(book: SessionBook, templates: dict[str, str]) -> None:
    """Every position of every session ("line"), every session ("session"), then the flags, one per line ("flag")."""
    for sess, verdict in book.session_verdicts():
        for i, v in enumerate(verdict.positions):
            print(json.dumps({
                "type": "line", "line": sess.lines[i] if i < len(sess.lines) else None, "session": sess.id,
                "key": v.key, "template": templates.get(v.key), "flagged": v.flagged, "unseen": v.unseen,
                "rank": v.rank + 1, "prob": v.prob, "expected": [templates.get(k, k) for k in v.expected],
            }))  # fmt: skip
        print(json.dumps({
            "type": "session", "session": sess.id, "flagged": verdict.flagged, "score": verdict.score,
            "keys": len(sess.keys),
        }))  # fmt: skip
    for flag in book.flags():
        print(json.dumps({"type": "flag", **asdict(flag)}))
