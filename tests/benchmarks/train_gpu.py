"""Train the analysis model on one GPU within a time budget, then evaluate it: one script for a lent H100/H200.

Builds the data (the tokenizer and the digest-grounded examples, as `logpt
train generator --build-data` does), trains the `gpu` preset until the
budget's training share is spent or the held-back loss stops improving
(`--patience`), keeps the best weights, writes the bundle, then scores it on
the held-out examples (recorded in the bundle's provenance) and on held-out
real logs with the reply grammar (readable share, unknown words, grounding).
Everything it prints names the device. On a machine without CUDA it refuses,
unless `--device cpu --preset tiny` (how the tests run it).

    python -m tests.benchmarks.train_gpu --out /tmp/logpt-analyst-gpu [--minutes 8] [--work gpu-work]
    logpt analyze -m /tmp/logpt-analyst-gpu -f some.log            # try it
    cp -r /tmp/logpt-analyst-gpu weights/logpt-analyst              # ship it (after reading the scores)
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from engine.lm.bundle import load_bundle
from engine.lm.devices import placement, resolve_device
from train.generator_data import read_examples
from train.generator_eval import evaluate_generator, record_evaluation
from train.recipes import GeneratorRecipe, RecipeEvents, build_data, train_generator_recipe

EVAL_RESERVE_MINUTES = 1.0  # kept from the budget for the evaluation after training


class Log(RecipeEvents):
    def __init__(self) -> None:
        self.t0 = time.perf_counter()

    def stage(self, text: str) -> None:
        print(f"[{time.perf_counter() - self.t0:6.1f} s] {text}", flush=True)

    def report(self, report) -> None:  # noqa: ANN001
        if report.val_loss is not None:
            print(f"[{time.perf_counter() - self.t0:6.1f} s] step {report.step}: loss {report.loss:.3f}, "
                  f"validation {report.val_loss:.3f} (best {report.best_val_loss:.3f}), "
                  f"{report.tokens_per_s:,.0f} tokens/s", flush=True)  # fmt: skip


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="the bundle folder to write")
    parser.add_argument("--work", type=Path, default=Path("gpu-work"))
    parser.add_argument(
        "--minutes", type=float, default=8.0, help="the whole run's budget, data and evaluation included"
    )
    parser.add_argument("--preset", default="gpu")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--patience", type=int, default=4, help="validations without a better loss before stopping")
    parser.add_argument("--eval-examples", type=int, default=150)
    parser.add_argument("--synthetic", type=int, default=None, help="synthetic training windows (default: by preset)")
    args = parser.parse_args(argv)
    device = resolve_device(args.device)
    if device.type != "cuda" and args.preset != "tiny":
        raise SystemExit("no CUDA device here: this script is for a lent GPU (or --device cpu --preset tiny to try it)")
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    events, t0 = Log(), time.perf_counter()
    events.stage(f"device: {name}; budget {args.minutes} min")
    build_data(GeneratorRecipe(args.out, args.work, args.preset, build_data=True, synthetic=args.synthetic), events)
    left = args.minutes - (time.perf_counter() - t0) / 60 - EVAL_RESERVE_MINUTES
    events.stage(f"data ready; training for at most {max(left, 0.05):.1f} min")
    recipe = GeneratorRecipe(args.out, args.work, args.preset, device=args.device, force=True,
                             patience=args.patience, max_minutes=max(left, 0.05))  # fmt: skip
    result = train_generator_recipe(recipe, events)
    bundle = load_bundle(args.out, placement(args.device))
    held = read_examples(args.work / "eval.jsonl")
    picked = held[:: max(1, len(held) // args.eval_examples)][: args.eval_examples]
    scores = evaluate_generator(bundle, picked)
    record_evaluation(args.out, args.work / "eval.jsonl", {"all": scores})
    minutes = (time.perf_counter() - t0) / 60
    summary = result.summary | {"device": name, "minutes": round(minutes, 2)}
    print(f"| device | steps (stopped by) | best val loss | ROUGE-L | grounding | unknown words (garbled) | minutes |\n"
          f"|---|---:|---:|---:|---:|---:|---:|\n| {name} | {summary['steps']} ({summary['stopped']}) | "
          f"{summary['best_val_loss']} | {scores.rouge_l:.3f} | {scores.grounding_precision:.3f} | "
          f"{scores.unknown_words:.1%} ({scores.garbled}/{scores.examples}) | {minutes:.1f} |")  # fmt: skip
    return summary


if __name__ == "__main__":
    main()
