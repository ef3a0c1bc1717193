"""`logpt detect FILE`: flag anomalous lines with a detector bundle or one trained on the file itself.

Parses arguments, runs `engine.detect.pipeline` (the explorer runs the same
one) and prints; nothing else.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.progress import BarColumn, Progress, TextColumn

from engine.detect.defaults import DEFAULT_LINE_MODEL, DEFAULT_SEQUENCE_MODEL
from engine.errors import InputError, LogptError
from engine.logs.formats import choose_format
from engine.logs.sessions import SessionSpec
from engine.logs.textio import read_lines
from logpt_tui.cli.console import err, out, safe
from logpt_tui.cli.options import ForceOpt, FormatOpt, FormatsFileOpt, JsonOpt

if TYPE_CHECKING:  # torch: the detection modules load when the command runs, not at `logpt --help`
    from engine.detect.history import DetectConfig
    from engine.detect.pipeline import DetectionPipeline, Flag, SessionBook
    from engine.detect.textseq import TextSeq
    from engine.detect.unusual import LineLM

M = TypeVar("M")


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
    rule: Annotated[
        str, typer.Option(help="combined: weigh sequence, novelty, severity, bursts and rarity; topk: the model alone.")
    ] = "combined",
    line_model: Annotated[
        str, typer.Option(help="Line model for 'unusual' evidence (name or folder); --no-line-model for none.")
    ] = DEFAULT_LINE_MODEL,
    no_line_model: Annotated[bool, typer.Option("--no-line-model", help="Weigh no unusual-text evidence.")] = False,
    sequence_model: Annotated[
        str, typer.Option(help="Pretrained sequence model for a file too short to self-train on (name or folder).")
    ] = DEFAULT_SEQUENCE_MODEL,
    no_sequence_model: Annotated[
        bool, typer.Option("--no-sequence-model", help="No sequence evidence where the file is too short to self-train.")
    ] = False,
    force: ForceOpt = False,
    log_format: FormatOpt = None,
    formats_file: FormatsFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Print incidents and their flagged lines, each with the evidence that flagged it."""
    if (detector is None) == (not self_train):
        raise LogptError("pass either --detector BUNDLE or --self-train", "see `logpt detect --help`")
    from engine.detect.evidence import RULES, EvidenceRule  # noqa: PLC0415 - loaded when the command runs
    if rule not in RULES:
        raise LogptError(f"unknown rule {rule!r}", f"use one of: {', '.join(RULES)}")
    lines = read_lines(file)
    if not lines:
        raise InputError(f"{file} is empty", "nothing to check")
    from engine.detect import Detector  # noqa: PLC0415 - torch loads when the command runs, not at `logpt --help`
    from engine.detect.history import DetectConfig  # noqa: PLC0415
    from engine.lm.registry import find_bundle  # noqa: PLC0415

    fmt = choose_format(lines, log_format, formats_file or ())
    config = DetectConfig(session=SessionSpec.parse(session) if session else None, epochs=epochs,
                          rule=EvidenceRule(rule))  # fmt: skip
    loaded = Detector.load(find_bundle(detector, kind="detector")) if detector else None
    line_lm, sequence = pretrained_models(None if no_line_model else line_model,
                                          None if no_sequence_model or loaded else sequence_model)  # fmt: skip
    pipeline = _prepare(lines, fmt, loaded, config, file, quiet=as_json, line_lm=line_lm, sequence=sequence)
    _say_model(pipeline)
    if save and loaded is None:
        _save(pipeline, save, force=force)
    book = pipeline.judge(lines, keep_verdicts=as_json)
    if as_json:
        _print_json(book, pipeline.templates())
    else:
        _print_flags(book, pipeline, file, lines)


def _say_model(pipeline: DetectionPipeline) -> None:
    """Which sequence model judges, when it is not a detector of this file's own."""
    if pipeline.detector is None and pipeline.sequence is not None:
        err.print(f"[dim]too little history to self-train: the sequence model is {safe(pipeline.source)}[/dim]")
    elif pipeline.detector is None:
        err.print(f"[yellow]{safe(pipeline.source)}[/yellow] [dim](severity, bursts and rarity only)[/dim]")


def _save(pipeline: DetectionPipeline, save: str, *, force: bool) -> None:
    """`--save`: the self-trained detector, or a note that nothing was learned."""
    from engine.lm.registry import output_folder  # noqa: PLC0415 - torch loads when the command runs

    if pipeline.detector is None:
        err.print(f"[yellow]not saved to {safe(save)}: nothing was learned from so short a log[/yellow]")
        return
    pipeline.detector.save(output_folder(save), force=force)
    err.print(f"[dim]saved detector to {safe(output_folder(save))}[/dim]")


def pretrained_models(line_model: str | None, sequence_model: str | None) -> tuple[LineLM | None, TextSeq | None]:
    """The pretrained line and sequence models asked for (None: not wanted), as `logpt detect` and `logpt serve` load
    them."""
    from engine.detect.textseq import find_text_seq  # noqa: PLC0415 - torch loads when the command runs, not at `logpt --help`
    from engine.detect.unusual import find_line_lm  # noqa: PLC0415

    line_lm = _optional(find_line_lm, line_model, DEFAULT_LINE_MODEL, "line model") if line_model else None
    sequence = (_optional(find_text_seq, sequence_model, DEFAULT_SEQUENCE_MODEL, "sequence model")
                if sequence_model else None)  # fmt: skip
    return line_lm, sequence


def _optional(find: Callable[[str], M], name: str, default: str, what: str) -> M | None:
    """The pretrained model asked for; the bundled default may be missing (a note, no such evidence), one named not."""
    try:
        return find(name)
    except LogptError as e:
        if name != default:
            raise
        err.print(f"[yellow]no {what}: {safe(str(e))}[/yellow] [dim](no evidence from it)[/dim]")
        return None


def _prepare(lines, fmt, loaded, config: DetectConfig, file: Path, *, quiet: bool, line_lm: LineLM | None,  # noqa: ANN001
             sequence: TextSeq | None) -> DetectionPipeline:  # fmt: skip
    from engine.detect.pipeline import DetectionPipeline  # noqa: PLC0415 - torch loads when the command runs, not at `logpt --help`

    if loaded is not None:
        return DetectionPipeline.prepare(lines, fmt, detector=loaded, config=config, line_lm=line_lm)
    with Progress(
        TextColumn("self-training"), BarColumn(), TextColumn("{task.description}"),
        console=err, transient=True, disable=quiet,
    ) as progress:  # fmt: skip
        task = progress.add_task("", total=config.epochs)
        return DetectionPipeline.prepare(
            lines, fmt, config=config, trained_on=f"{file} (self-training)", line_lm=line_lm, sequence=sequence,
            on_epoch=lambda r: progress.update(task, completed=r.epoch, description=f"epoch {r.epoch} val loss {r.val_loss:.3f}"),
        )  # fmt: skip


SHOWN_PER_INCIDENT = 8  # flagged lines printed under an incident; --json has them all


def _print_flags(book: SessionBook, pipeline: DetectionPipeline, file: Path, lines: list[str]) -> None:
    flags = book.flags()
    found = book.incidents(flags)
    rule = pipeline.detector.topk.describe() if pipeline.detector else pipeline.sequence.describe() if pipeline.sequence else ""
    model = (f"{len(book.sessions)} sessions {safe(pipeline.spec.describe())} · {safe(rule)}"
             if rule else safe(pipeline.source))  # fmt: skip
    err.print(
        f"[dim]{safe(file)}: {len(lines):,} lines · format {safe(pipeline.fmt.name)} · {model} · rule "
        f"{pipeline.rule.kind}{' · line model' if pipeline.line_lm else ''} · {len(flags)} flagged lines in "
        f"{len(found)} incidents[/dim]"
    )
    at = 0
    for n, incident in enumerate(found, 1):
        span = (
            f"line {incident.first}" if incident.first == incident.last else f"lines {incident.first}–{incident.last}"
        )
        out.print(f"[bold]incident {n}[/bold] · {span} · {incident.lines} flagged · [dim]{safe(incident.why)}[/dim]")
        members = flags[at : at + incident.lines]
        at += incident.lines
        for flag in members[:SHOWN_PER_INCIDENT]:
            _print_flag(flag, pipeline, lines)
        if len(members) > SHOWN_PER_INCIDENT:
            out.print(f"        [dim]… {len(members) - SHOWN_PER_INCIDENT} more (--json lists them all)[/dim]")


def _print_flag(flag: Flag, pipeline: DetectionPipeline, lines: list[str]) -> None:
    record = pipeline.fmt.parse(lines[flag.line - 1], flag.line)
    what = safe(clip(record.message if record is not None else flag.template, 160))
    expected = "; ".join(safe(clip(t, 60)) for t in flag.expected[:2])
    why = safe(flag.reason) + (f" · expected: {expected}" if expected else "")
    out.print(f"[bold red]{flag.line:>7}[/bold red] {what}\n        [yellow]{why}[/yellow]")


def clip(text: str, width: int) -> str:
    """`text` cut to about `width` characters at a word boundary, with `…` when cut (never mid-token)."""
    if len(text) <= width:
        return text
    cut = text.rfind(" ", 0, width)
    return text[: cut if cut > width // 2 else width].rstrip() + " …"


def _print_json(book: SessionBook, templates: dict[str, str]) -> None:
    """Every position of every session ("line"), every session ("session"), the flags, one per line ("flag"),
    the incidents ("incident"), then which models judged ("models")."""
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
    flags = book.flags()
    for flag in flags:
        print(json.dumps({"type": "flag", **flag.to_json()}))
    for incident in book.incidents(flags):
        print(json.dumps({"type": "incident", **incident.to_json()}))
    pipeline = book.pipeline
    print(json.dumps({"type": "models", "sequence": pipeline.source, "line_model": pipeline.line_lm is not None}))
