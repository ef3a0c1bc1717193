"""`logpt train …`: fit models on your own data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from engine.errors import LogptError
from engine.logs.formats import choose_format
from engine.logs.sessions import SessionSpec
from engine.logs.textio import read_lines
from logpt_tui.cli.console import err, friendly, out, safe
from logpt_tui.cli.options import ForceOpt, FormatOpt, FormatsFileOpt
from train.recipes import RecipeEvents

if TYPE_CHECKING:
    from engine.detect.fit import EpochReport
    from train.generator import Report
    from train.lm import StepReport


def output_folder(name_or_path: str) -> Path:
    """Where a trained bundle goes (engine.lm.registry's rule, imported when a command runs: it needs torch)."""
    from engine.lm.registry import output_folder as where  # noqa: PLC0415 - torch loads when the command runs, not at `logpt --help`

    return where(name_or_path)

MaxMinutesOpt = Annotated[float | None, typer.Option(min=0.0, help="Stop after this many minutes.")]
SeedOpt = Annotated[int, typer.Option(help="Seed of the data draw and the weights.")]

train_app = typer.Typer(help="Train logpt's models on your data.", no_args_is_help=True)


def _bundle(name: str) -> Path:
    from engine.lm.registry import find_bundle  # noqa: PLC0415 - torch loads when the command runs, not at `logpt --help`

    return find_bundle(name)


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
    force: ForceOpt = False,
) -> None:
    """Train a next-key detector on normal sessions; the best-validation weights are saved."""
    if (log is None) == (sessions_file is None):
        raise LogptError("pass either --log FILE or --sessions-file FILE", "see `logpt train detector --help`")
    from engine.detect.history import DetectConfig, fit_sessions, self_train  # noqa: PLC0415 - torch loads when the command runs, not at `logpt --help`

    config = DetectConfig(session=SessionSpec.parse(session) if session else None, epochs=epochs, target_fpr=target_fpr)
    with Progress(*_columns("epoch"), console=err) as progress:
        task = progress.add_task("", total=epochs)

        def on_epoch(r: EpochReport) -> None:
            description = f"train {r.train_loss:.4f} · val {r.val_loss:.4f}" + (" ★" if r.best else "")
            progress.update(task, completed=r.epoch, description=description)

        if log is not None:
            lines = read_lines(log)
            fmt = choose_format(lines, log_format, formats_file or ())
            config = replace(config, history_lines=len(lines))  # a training log is history from start to end
            detector = self_train(lines, fmt, config, trained_on=f"{log} ({fmt.name})", on_epoch=on_epoch)
        else:
            assert sessions_file is not None
            sessions = [line.split() for line in read_lines(sessions_file) if line.strip()]
            detector = fit_sessions(sessions, config, complete=True, trained_on=str(sessions_file), on_epoch=on_epoch)
    target = output_folder(out_name)
    detector.save(target, force=force)
    rule = f", sessions {detector.session.describe()}" if detector.session else ""
    out.print(
        f"wrote {safe(target)}: {len(detector.vocab) - 4} templates, {detector.provenance['keys']:,} keys in "
        f"{detector.provenance['sessions']:,} sessions, "
        f"rule {detector.topk.describe()}{safe(rule)}"
    )


def _columns(unit: str) -> tuple:
    return (TextColumn(unit), MofNCompleteColumn(), BarColumn(), TextColumn("{task.description}"), TimeElapsedColumn())


LoghubOpt = Annotated[
    Path | None,
    typer.Option(help="Loghub samples (<System>/<System>_2k.log). Default: ../shared/datasets/loghub if present."),
]


class Bars(RecipeEvents):
    """A recipe's events as Rich progress bars on stderr."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task = progress.add_task("", total=None)

    def stage(self, text: str) -> None:
        self.progress.update(self.task, description=text, completed=0, total=None)

    def examples(self, done: int, total: int | None) -> None:
        self.progress.update(self.task, description="building examples", completed=done, total=total)

    def report(self, r: Report) -> None:
        val = f" · val {r.val_loss:.3f} (best {r.best_val_loss:.3f})" if r.val_loss is not None else ""
        self.progress.update(
            self.task, completed=r.step, description=f"step · loss {r.loss:.3f}{val} · {r.tokens_per_s:,.0f} tok/s"
        )


def _step_bar(progress: Progress, first: str, steps: int, *, rate: bool) -> Callable[[StepReport], None]:
    """A training run's steps as one bar: loss, validation loss when there is one (and tokens/s with `rate`)."""
    task = progress.add_task(first, total=steps)

    def on_step(r: StepReport) -> None:
        val = f" · val {r.val_loss:.3f}" if r.val_loss is not None else ""
        speed = f" · {r.tokens_per_s:,.0f} tok/s" if rate else ""
        progress.update(task, completed=r.step, description=f"loss {r.loss:.3f}{val}{speed}")

    return on_step


@train_app.command("lines")
@friendly
def train_lines_command(
    out_name: Annotated[str, typer.Argument(metavar="OUT", help="Bundle name (user models dir) or folder path.")],
    *,
    loghub: LoghubOpt = None,
    steps: Annotated[int, typer.Option(min=1, help="Optimizer steps (batches of 64 templates).")] = 450,
    max_minutes: MaxMinutesOpt = None,
    seed: SeedOpt = 0,
    knowledge: Annotated[
        str, typer.Option(help="Knowledge-base examples: first (signatures.toml, as shipped) or all.")
    ] = "first",
    sources: Annotated[
        list[Path] | None,
        typer.Option("--sources", metavar="DIR", exists=True, file_okay=False, help="A source tree whose logging calls (message "
                     "and level) are training data; repeat for more."),
    ] = None,
    tree_cap: Annotated[
        int, typer.Option(min=1, help="A source tree is drawn as often as a source of this many templates.")
    ] = 100,
    force: ForceOpt = False,
) -> None:
    """Train the line model: a small GPT over log templates that scores a line's text with no history.

    Data: the templates of the Loghub samples (BGL held out), synthetic logs, the knowledge base's examples and
    the logging calls of the --sources trees."""
    from train.linelm import LineLMConfig, train_lines  # noqa: PLC0415 - only the CLI touches train, lazily
    from train.recipes import loghub_dir  # noqa: PLC0415

    config = LineLMConfig(steps=steps, max_minutes=max_minutes, seed=seed, knowledge=knowledge, tree_cap=tree_cap)
    target = output_folder(out_name)
    with Progress(*_columns("step"), console=err) as progress:
        on_step = _step_bar(progress, "building the corpus", steps, rate=True)
        result, corpus = train_lines(target, loghub_dir(loghub), config, on_step, force=force, trees=sources or ())
    out.print(
        f"wrote {safe(target)}: {sum(corpus.counts().values()):,} templates from {len(corpus.sources)} sources, "
        f"best validation loss {result.best_val_loss:.3f} after {result.steps} steps ({result.seconds / 60:.1f} min)"
    )


@train_app.command("sequence")
@friendly
def train_sequence_command(
    out_name: Annotated[str, typer.Argument(metavar="OUT", help="Bundle name (user models dir) or folder path.")],
    *,
    loghub: LoghubOpt = None,
    steps: Annotated[int, typer.Option(min=1, help="Optimizer steps (16 windows of 32 templates each).")] = 3000,
    max_minutes: MaxMinutesOpt = None,
    seed: SeedOpt = 0,
    force: ForceOpt = False,
) -> None:
    """Train the pretrained sequence model: the next template among a file's own, read from their text, for files
    too short to self-train on.

    Data: template streams of the Loghub samples (BGL held out), synthetic logs and made-up traffic."""
    from train.recipes import loghub_dir  # noqa: PLC0415 - only the CLI touches train, lazily
    from train.textseq import TextSeqConfig, train_sequence  # noqa: PLC0415

    config = TextSeqConfig(steps=steps, max_minutes=max_minutes, seed=seed)
    target = output_folder(out_name)
    with Progress(*_columns("step"), console=err) as progress:
        on_step = _step_bar(progress, "mining the streams", steps, rate=False)
        result, streams = train_sequence(target, loghub_dir(loghub), config, on_step, force=force)
    out.print(
        f"wrote {safe(target)}: {len(streams)} streams, {sum(len(s.keys) for s in streams):,} records; best "
        f"validation loss {result.best_val_loss:.3f} after {result.steps} steps ({result.seconds / 60:.1f} min); "
        f"rule p < {result.floor:.2g}"
    )


@train_app.command("tokenizer")
@friendly
def train_tokenizer_command(
    out_file: Annotated[Path, typer.Argument(metavar="OUT", help="Ranks file to write (tiktoken format).")],
    *,
    vocab_size: Annotated[int, typer.Option(min=257, help="BPE ranks (the 7 special tokens come on top).")] = 4096,
    loghub: LoghubOpt = None,
) -> None:
    """Train a byte-level BPE on log text (Loghub's training systems plus synthetic logs); report bytes per token."""
    from train.recipes import loghub_dir, train_tokenizer  # noqa: PLC0415 - only the CLI touches train, lazily

    with err.status("building the corpus") as status:
        events = RecipeEvents()
        events.stage = lambda text: status.update(text)  # type: ignore[method-assign]
        result = train_tokenizer(out_file, vocab_size, loghub_dir(loghub), events)
    out.print(f"wrote {safe(out_file)}: {result.ranks} ranks + {result.special_tokens} special tokens")
    for name, value in result.held_out_bytes_per_token.items():
        out.print(f"  held-out {safe(name)}: {value:.2f} bytes/token")


@train_app.command("generator")
@friendly
def train_generator_command(
    out_name: Annotated[str, typer.Argument(metavar="OUT", help="Bundle name (user models dir) or folder path.")],
    *,
    work: Annotated[
        Path, typer.Option(help="Working folder: tokenizer, data, checkpoints, metrics, loss curve.")
    ] = Path("generator-work"),
    preset: Annotated[str, typer.Option(help="cpu (under an hour on 2 cores), gpu (one GPU) or tiny (tests).")] = "cpu",
    build_data: Annotated[bool, typer.Option("--build-data", help="(Re)build the tokenizer and the examples.")] = False,
    loghub: LoghubOpt = None,
    extra: Annotated[
        list[Path] | None, typer.Option(help='More examples: JSON lines {"log", "query", "response"} (LoGPT format).')
    ] = None,
    synthetic: Annotated[
        int | None, typer.Option(min=0, help="Synthetic training windows (default: by preset).")
    ] = None,
    made_up: Annotated[
        int | None,
        typer.Option(min=0, help="Windows of made-up traffic, half with a known signature (default: by preset)."),
    ] = None,
    steps: Annotated[int | None, typer.Option(min=1, help="Optimizer steps (default: by preset).")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from the checkpoint in --work.")] = False,
    device: Annotated[str, typer.Option(help="auto, cuda, mps or cpu.")] = "auto",
    force: ForceOpt = False,
    init: Annotated[
        str | None,
        typer.Option(
            help="Fine-tune this generator bundle (e.g. a GPT-2 from `logpt import hf`) instead of training "
            "from scratch: its vocabulary plus LoGPT's control tokens, its architecture, learning rate 1e-4."
        ),
    ] = None,
    patience: Annotated[
        int | None, typer.Option(min=1, help="Stop after N validations without a better held-back loss.")
    ] = None,
    max_minutes: Annotated[
        float | None,
        typer.Option(min=0.0, help="Stop after this many minutes of training in this run (then --resume goes on)."),
    ] = None,
) -> None:
    """Train the analysis model on digest-grounded examples and save it as a bundle.

    Train as long as it keeps improving: a large --steps with --patience, across runs with --max-minutes and
    --resume (the checkpoint keeps the step, the best loss and the data order)."""
    from train.recipes import GeneratorRecipe, train_generator_recipe  # noqa: PLC0415 - only the CLI touches train

    recipe = GeneratorRecipe(
        output_folder(out_name), work, preset, build_data, loghub, tuple(extra or ()), synthetic, made_up, steps,
        resume, device, force, _bundle(init) if init else None, patience, max_minutes,
    )  # fmt: skip
    with Progress(*_columns(""), console=err) as progress:
        result = train_generator_recipe(recipe, Bars(progress))
    if result.examples_written:
        n_train, n_held = result.examples_written
        out.print(f"wrote {n_train} training and {n_held} held-out examples to {safe(work)}")
    summary, curve = result.summary, f"; loss curve {result.loss_curve}" if result.loss_curve else ""
    why = {"patience": " (no better validation loss lately)", "time": " (--max-minutes: --resume goes on)"}
    out.print(
        f"wrote {safe(result.bundle)}: best validation loss {summary['best_val_loss']} after "
        f"{summary['steps']} steps{why.get(summary['stopped'], '')} ({summary['seconds'] / 60:.1f} min){safe(curve)}"
    )
