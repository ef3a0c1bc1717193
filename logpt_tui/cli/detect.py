"""`logpt detect FILE`: flag anomalous lines with a detector bundle or one trained on the file itself."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn

from engine.detect import Detector, SessionVerdict
from engine.errors import InputError, LogptError
from engine.lm.registry import find_bundle, output_folder
from engine.logs.formats import parse_lines
from engine.logs.sessions import Session, SessionSpec, group_sessions
from engine.logs.templates import TemplateMiner
from engine.logs.textio import read_log, split_lines
from logpt_tui.cli.console import err, out, visible
from logpt_tui.cli.options import JsonOpt
from logpt_tui.cli.templates import FormatOpt, FormatsFileOpt, choose_format


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
    fmt = choose_format(lines, log_format, formats_file)
    records = list(parse_lines(lines, fmt))
    loaded = Detector.load(find_bundle(detector, kind="detector")) if detector else None
    state = loaded.miner_state if loaded else None
    miner = TemplateMiner.from_state(state) if state else TemplateMiner()
    keys = [str(miner.add(r.message)) for r in records]
    spec = SessionSpec.parse(session) if session else _saved_spec(loaded) or SessionSpec.default_for(fmt.name)
    sessions = group_sessions(zip(records, keys, strict=True), spec)
    if loaded is None:
        loaded = _self_train(sessions, spec, miner, epochs, quiet=as_json)
        if save:
            loaded.save(output_folder(save))
            err.print(f"[dim]saved detector to {output_folder(save)}[/dim]")
    verdicts = loaded.judge([s.keys for s in sessions])
    templates = {str(t.key): t.text for t in miner.templates()} | loaded.templates
    if as_json:
        _print_json(sessions, verdicts, templates)
        return
    flagged_sessions = sum(v.flagged for v in verdicts)
    err.print(
        f"[dim]{file}: {len(lines)} lines · format {fmt.name} · {len(sessions)} sessions {spec.describe()} · "
        f"{loaded.topk.describe()} · {flagged_sessions} sessions flagged[/dim]"
    )
    by_line = {record.line: record for record in records}
    for sess, verdict in zip(sessions, verdicts, strict=True):
        for i, v in enumerate(verdict.positions):
            if not v.flagged:
                continue
            line = sess.lines[i] if i < len(sess.lines) else sess.lines[-1]
            what = (
                "session ended early"
                if i >= len(sess.lines)
                else escape(visible(by_line[line].message.partition("\n")[0][:160]))
            )
            why = "unseen template" if v.unseen else f"rank {v.rank + 1}, p={v.prob:.2g}"
            expected = "; ".join(escape(visible(templates.get(k, k)))[:60] for k in v.expected[:2])
            out.print(
                f"[bold red]{line:>7}[/bold red] [dim]{escape(sess.id)}[/dim] {what}\n        [yellow]{why}[/yellow] · expected: {expected}"
            )


def _saved_spec(loaded: Detector | None) -> SessionSpec | None:
    if loaded is None or "kind" not in loaded.sessions:
        return None
    s = loaded.sessions
    return SessionSpec(s["kind"], s.get("pattern"), int(s.get("size", 50)))


def _self_train(
    sessions: list[Session], spec: SessionSpec, miner: TemplateMiner, epochs: int, *, quiet: bool
) -> Detector:
    from engine.detect.fit import DetectorTrainConfig, fit_detector  # noqa: PLC0415 - only the CLI touches train, lazily

    if len(sessions) < 10:
        raise InputError(
            f"only {len(sessions)} sessions: too few to learn what is normal", "use --session window:N with a smaller N"
        )
    complete = spec.kind == "id"
    config = DetectorTrainConfig(epochs=epochs)
    with Progress(
        TextColumn("self-training"),
        BarColumn(),
        TextColumn("{task.description}"),
        console=err,
        transient=True,
        disable=quiet,
    ) as progress:
        task = progress.add_task("", total=epochs)
        model, vocab, topk = fit_detector(
            [s.keys for s in sessions], config, complete=complete,
            on_epoch=lambda r: progress.update(task, completed=r.epoch, description=f"epoch {r.epoch} val loss {r.val_loss:.3f}"),
        )  # fmt: skip
    return Detector(
        model, vocab, topk,
        templates={str(t.key): t.text for t in miner.templates()},
        provenance={"trained_on": "the file's own sessions (self-training)", "sessions": len(sessions)},
        sessions={"kind": spec.kind, "pattern": spec.pattern, "size": spec.size, "complete": complete},
        miner_state=miner.to_state(),
    )  # fmt: skip


def _print_json(sessions: list[Session], verdicts: list[SessionVerdict], templates: dict[str, str]) -> None:
    for sess, verdict in zip(sessions, verdicts, strict=True):
        for i, v in enumerate(verdict.positions):
            print(json.dumps({
                "type": "line", "line": sess.lines[i] if i < len(sess.lines) else None, "session": sess.id,
                "key": v.key, "template": templates.get(v.key), "flagged": v.flagged, "unseen": v.unseen,
                "rank": v.rank + 1, "prob": v.prob, "expected": [templates.get(k, k) for k in v.expected],
            }))  # fmt: skip
        print(
            json.dumps(
                {
                    "type": "session",
                    "session": sess.id,
                    "flagged": verdict.flagged,
                    "score": verdict.score,
                    "keys": len(sess.keys),
                }
            )
        )
