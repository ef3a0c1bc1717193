"""`logpt train …`: fit models on your own data."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from engine.detect.fit import EpochReport
from engine.detect.pipeline import DetectConfig, fit_sessions, self_train
from engine.errors import InputError, LogptError
from engine.lm.registry import output_folder
from engine.logs.formats import choose_format
from engine.logs.sessions import SessionSpec
from engine.logs.textio import read_log, split_lines
from logpt_tui.cli.console import err, friendly, out
from logpt_tui.cli.options import FormatOpt, FormatsFileOpt

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
    if (log is None) == (sessions_file is None):
        raise LogptError("pass either --log FILE or --sessions-file FILE", "see `logpt train detector --help`")
    config = DetectConfig(session=SessionSpec.parse(session) if session else None, epochs=epochs, target_fpr=target_fpr)
    with Progress(*_columns("epoch"), console=err) as progress:
        task = progress.add_task("", total=epochs)

        def on_epoch(r: EpochReport) -> None:
            description = f"train {r.train_loss:.4f} · val {r.val_loss:.4f}" + (" ★" if r.best else "")
            progress.update(task, completed=r.epoch, description=description)

        if log is not None:
            lines = split_lines(read_log(log))
            fmt = choose_format(lines, log_format, formats_file or ())
            config = replace(config, history_lines=len(lines))  # a training log is history from start to end
            detector = self_train(lines, fmt, config, trained_on=f"{log} ({fmt.name})", on_epoch=on_epoch)
        else:
            assert sessions_file is not None
            sessions = [line.split() for line in split_lines(read_log(sessions_file)) if line.strip()]
            detector = fit_sessions(sessions, config, complete=True, trained_on=str(sessions_file), on_epoch=on_epoch)
    target = output_folder(out_name)
    detector.save(target)
    rule = f", sessions {detector.session.describe()}" if detector.session else ""
    out.print(
        f"wrote {escape(str(target))}: {len(detector.vocab) - 4} keys, {detector.provenance['sessions']} sessions, "
        f"rule {detector.topk.describe()}{escape(rule)}"
    )


def _columns(unit: str) -> tuple:
    return (TextColumn(unit), MofNCompleteColumn(), BarColumn(), TextColumn("{task.description}"), TimeElapsedColumn())


DEFAULT_LOGHUB = Path("../shared/datasets/loghub")
LoghubOpt = Annotated[
    Path | None,
    typer.Option(help="Loghub samples (<System>/<System>_2k.log). Default: ../shared/datasets/loghub if present."),
]


def _loghub(path: Path | None) -> Path | None:
    if path is not None and not path.is_dir():
        raise InputError(f"no Loghub folder at {path}", "pass --loghub DIR or leave it out to use synthetic data only")
    if path is None and DEFAULT_LOGHUB.is_dir():
        return DEFAULT_LOGHUB
    return path


def _tokenizer_corpus(loghub: Path | None, seed: int = 0) -> tuple[list[str], dict[str, str]]:
    """(training texts, held-out texts by name): Loghub minus the held-out systems, plus synthetic windows."""
    import random  # noqa: PLC0415

    from train.generator_data import HELD_OUT_SYSTEMS, TRAIN_STYLES  # noqa: PLC0415
    from train.synth.incidents import INCIDENTS, synthetic_window  # noqa: PLC0415

    texts, held = [], {}
    if loghub is not None:
        for folder in sorted(p for p in loghub.iterdir() if (p / f"{p.name}_2k.log").is_file()):
            text = (folder / f"{folder.name}_2k.log").read_text(encoding="utf-8", errors="replace")
            if folder.name in HELD_OUT_SYSTEMS:
                held[folder.name] = text
            else:
                texts.append(text)
    rng = random.Random(seed)
    for _ in range(400):
        window = synthetic_window(rng, rng.choice(TRAIN_STYLES), 40, rng.choice((None, *INCIDENTS)))
        texts.append("\n".join(window))
    from engine.analysis.analyst import analyze  # noqa: PLC0415 - the replies are text the tokenizer must also know
    from engine.analysis.digest import build_digest  # noqa: PLC0415
    from engine.analysis.queries import NAMES  # noqa: PLC0415

    for text in texts[: len(texts) // 2 : 20]:
        digest = build_digest(text.splitlines()[:60])
        texts.extend([digest.render()] + [analyze(digest, q) for q in NAMES])
    return texts, held


@train_app.command("tokenizer")
@friendly
def train_tokenizer_command(
    out_file: Annotated[Path, typer.Argument(metavar="OUT", help="Ranks file to write (tiktoken format).")],
    *,
    vocab_size: Annotated[int, typer.Option(min=257, help="BPE ranks (the 7 special tokens come on top).")] = 4096,
    loghub: LoghubOpt = None,
) -> None:
    """Train a byte-level BPE on log text (Loghub's training systems plus synthetic logs); report bytes per token."""
    from engine.lm.tokenizer import write_ranks  # noqa: PLC0415
    from train.tokenizer import bytes_per_token, train_bpe  # noqa: PLC0415

    texts, held = _tokenizer_corpus(_loghub(loghub))
    with err.status(f"training a {vocab_size}-rank BPE on {sum(map(len, texts)) / 1e6:.1f} MB of log text"):
        tokenizer = train_bpe(texts, vocab_size)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    write_ranks(out_file, tokenizer.ranks)
    out.print(f"wrote {out_file}: {len(tokenizer.ranks)} ranks + {len(tokenizer.special_tokens)} special tokens")
    for name, text in held.items():
        out.print(f"  held-out {name}: {bytes_per_token(tokenizer, text):.2f} bytes/token")


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
) -> None:
    """Train the analysis model on digest-grounded examples and save it as a bundle."""
    import dataclasses  # noqa: PLC0415
    import json  # noqa: PLC0415
    import platform  # noqa: PLC0415
    from collections import Counter  # noqa: PLC0415

    import torch  # noqa: PLC0415

    from engine.analysis.prompts import prompt_format  # noqa: PLC0415
    from engine.lm.bundle import BundleConfig, TokenizerSpec, save_model  # noqa: PLC0415
    from engine.lm.devices import resolve_device  # noqa: PLC0415
    from engine.lm.model import GPT  # noqa: PLC0415
    from engine.lm.tokenizer import ENDOFTEXT, LOGPT_SPECIALS, Tokenizer, read_ranks, write_ranks  # noqa: PLC0415
    from train.generator import PRESETS, model_config, plot_losses, train_generator  # noqa: PLC0415
    from train.generator_data import DataConfig, build_examples, read_examples, write_examples  # noqa: PLC0415
    from train.tokenizer import train_bpe  # noqa: PLC0415

    if preset not in PRESETS:
        raise LogptError(f"unknown preset {preset!r}", f"choose one of {', '.join(PRESETS)}")
    config = PRESETS[preset] if steps is None else dataclasses.replace(PRESETS[preset], steps=steps)
    loghub_dir = _loghub(loghub)
    work.mkdir(parents=True, exist_ok=True)
    ranks_path, train_path, eval_path = work / "tokenizer.tiktoken", work / "train.jsonl", work / "eval.jsonl"
    if build_data or not ranks_path.is_file():
        texts, _ = _tokenizer_corpus(loghub_dir, config.seed)
        with err.status(f"training a {config.vocab_size}-rank tokenizer"):
            write_ranks(ranks_path, train_bpe(texts, config.vocab_size).ranks)
    ranks = read_ranks(ranks_path)
    specials = {name: len(ranks) + i for i, name in enumerate((ENDOFTEXT, *LOGPT_SPECIALS))}
    tokenizer = Tokenizer(ranks, specials)
    fmt = prompt_format("logpt-digest")
    log_budget = config.block_size - config.reply_tokens - fmt.overhead(tokenizer, "action_items")
    if build_data or not train_path.is_file():
        n_synthetic = synthetic if synthetic is not None else (200 if preset == "tiny" else 24_000)
        n_made_up = made_up if made_up is not None else (40 if preset == "tiny" else 24_000)
        data_config = DataConfig(
            loghub_dir, synthetic_train=n_synthetic, synthetic_eval=20 if preset == "tiny" else 300,
            made_up_train=n_made_up, loghub_passes=1 if preset == "tiny" else 4, seed=config.seed,
        )  # fmt: skip
        from engine.analysis.prompts import DIGEST_TOKENS  # noqa: PLC0415

        with Progress(
            TextColumn("building examples"), MofNCompleteColumn(), BarColumn(), TimeElapsedColumn(), console=err
        ) as progress:
            task = progress.add_task("", total=None)
            train_examples, eval_examples = build_examples(
                tokenizer, log_budget, DIGEST_TOKENS, data_config,
                on_progress=lambda done, total: progress.update(task, completed=done, total=total),
            )  # fmt: skip
        write_examples(train_path, train_examples)
        write_examples(eval_path, eval_examples)
        out.print(f"wrote {len(train_examples)} training and {len(eval_examples)} held-out examples to {work}")
    examples = read_examples(train_path)
    for path in extra or []:
        examples.extend(read_examples(path))
    if not resume:
        (work / "metrics.jsonl").unlink(missing_ok=True)
    torch.manual_seed(config.seed)
    model = GPT(model_config(config, tokenizer))
    model.init_weights(config.seed)
    target_device = resolve_device(device)
    columns = (
        TextColumn("step"),
        MofNCompleteColumn(),
        BarColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err) as progress:
        task = progress.add_task("", total=config.steps)

        def on_report(r) -> None:  # noqa: ANN001
            val = f" · val {r.val_loss:.3f} (best {r.best_val_loss:.3f})" if r.val_loss is not None else ""
            progress.update(task, completed=r.step, description=f"loss {r.loss:.3f}{val} · {r.tokens_per_s:,.0f} tok/s")

        summary = train_generator(
            model, tokenizer, examples, config, work, device=target_device, resume=resume, on_report=on_report
        )
    plotted = plot_losses(work / "metrics.jsonl", work / "loss.png")
    device_name = (
        torch.cuda.get_device_name(target_device)
        if target_device.type == "cuda"
        else platform.processor() or platform.machine()
    )
    provenance = {
        "trainer": "logpt train generator",
        "preset": preset,
        "config": dataclasses.asdict(config),
        "data": {
            "loghub": str(loghub_dir) if loghub_dir else None,
            "examples": len(examples),
            "by_source": dict(Counter(e.source.split(":")[0] for e in examples)),
            "extra": [str(p) for p in extra or []],
            "held_out": "Loghub Zookeeper, OpenStack, Mac; synthetic JSON-lines logs",
        },
        "training": summary,
        "device": f"{target_device.type}: {device_name}",
        "torch": torch.__version__,
    }
    bundle_config = BundleConfig(
        model=model.config,
        tokenizer=TokenizerSpec(special_tokens=specials, eot_token=ENDOFTEXT),
        prompt_format="logpt-digest",
        description="logpt analysis model: summary, root cause and action items grounded in the chunk's digest",
        provenance=provenance,
    )
    target = output_folder(out_name)
    save_model(target, bundle_config, model.cpu(), ranks)
    (work / "provenance.json").write_text(json.dumps(provenance, indent=2) + "\n", encoding="utf-8")
    out.print(
        f"wrote {target}: best validation loss {summary['best_val_loss']} after {summary['steps']} steps "
        f"({summary['seconds'] / 60:.1f} min)" + (f"; loss curve {work / 'loss.png'}" if plotted else "")
    )
