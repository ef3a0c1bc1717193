"""`logpt train generator`: fine-tune a GPT to write analyses from a chunk and its digest.

Each example becomes `prompt + response + <|response_end|>` in the
`logpt-digest` format; the loss is on the response tokens only. AdamW
(β 0.9/0.95, weight decay 0.1 on matrices), linear warmup then cosine decay,
gradient accumulation, clipping at 1.0, bf16 autocast on CUDA. Every
`eval_every` optimizer steps the validation loss is measured; the best
weights are kept and a checkpoint (weights, optimizer state, step, RNG) is
written so that `resume` continues where it stopped. Checkpoints are
safetensors plus JSON, never pickle. Metrics go to a callback and to
`metrics.jsonl`; this module prints nothing.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from engine.analysis.prompts import PromptFormat, prompt_format
from engine.errors import CheckpointError, LogptError
from engine.lm.config import GPTConfig
from engine.lm.model import GPT
from engine.lm.tensorfile import load_tensors, save_tensors
from engine.lm.tokenizer import Tokenizer
from engine.sidefiles import read_json
from train.generator_data import Example
from train.lm import lr_at
from train.optim import adamw

IGNORE = -100


@dataclass(frozen=True)
class GeneratorTrainConfig:
    preset: str = "cpu"
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 256
    block_size: int = 1024
    vocab_size: int = 4096  # BPE ranks; specials come on top
    reply_tokens: int = 384  # reply budget reserved when examples are sized (engine.analysis.chunker.REPLY_TOKENS)
    steps: int = 750  # optimizer steps
    batch_size: int = 8  # examples per micro-batch
    grad_accum: int = 2  # micro-batches per optimizer step
    lr: float = 2e-3
    min_lr_ratio: float = 0.1
    warmup_steps: int = 30
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    dropout: float = 0.0
    eval_every: int = 50
    val_examples: int = 200  # held back from the training examples for best-checkpoint selection
    seed: int = 0


PRESETS = {
    # Finishes in under an hour on a 2-core x86 CPU (750 steps: 51 minutes of steps measured, 56 with data encoding).
    "cpu": GeneratorTrainConfig(),
    # One modern GPU (an H100 takes a few minutes): a wider, deeper model, more steps.
    "gpu": GeneratorTrainConfig(
        preset="gpu",
        n_layer=8,
        n_head=8,
        n_embd=512,
        vocab_size=8192,
        steps=6000,
        batch_size=32,
        grad_accum=1,
        lr=1e-3,
        warmup_steps=200,
        eval_every=250,
        val_examples=500,
    ),  # fmt: skip
    # Seconds, for tests.
    "tiny": GeneratorTrainConfig(
        preset="tiny",
        n_layer=1,
        n_head=2,
        n_embd=32,
        block_size=512,
        vocab_size=300,
        reply_tokens=160,
        steps=4,
        batch_size=2,
        grad_accum=2,
        warmup_steps=1,
        eval_every=2,
        val_examples=4,
    ),  # fmt: skip
}


@dataclass(frozen=True)
class Report:
    step: int
    loss: float
    lr: float
    tokens_per_s: float
    val_loss: float | None = None
    best_val_loss: float | None = None


def model_config(c: GeneratorTrainConfig, tokenizer: Tokenizer) -> GPTConfig:
    return GPTConfig(
        block_size=c.block_size, vocab_size=tokenizer.n_vocab, n_layer=c.n_layer, n_head=c.n_head, n_embd=c.n_embd,
        dropout=c.dropout,
    )  # fmt: skip


def encode_example(example: Example, tokenizer: Tokenizer, fmt: PromptFormat, block_size: int) -> tuple[list[int], int]:
    """(token ids, index of the first response token); the sequence is cut to block_size + 1."""
    prompt = fmt.encode(tokenizer, example.log, example.query, example.facts)
    reply = tokenizer.encode(example.response) + [tokenizer.special("<|response_end|>")]
    ids = (prompt + reply)[: block_size + 1]
    return ids, len(prompt)


def collate(batch: Sequence[tuple[list[int], int]], pad: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(inputs, targets) padded to the longest sequence; targets outside the response are IGNORE."""
    width = max(len(ids) for ids, _ in batch) - 1
    x = torch.full((len(batch), width), pad, dtype=torch.long)
    y = torch.full((len(batch), width), IGNORE, dtype=torch.long)
    for row, (ids, start) in enumerate(batch):
        seq = torch.tensor(ids, dtype=torch.long)
        x[row, : len(ids) - 1] = seq[:-1]
        targets = seq[1:].clone()
        targets[: max(0, start - 1)] = IGNORE  # predict from the last prompt token on
        y[row, : len(ids) - 1] = targets
    return x, y


def response_loss(model: GPT, x: torch.Tensor, y: torch.Tensor, device: torch.device) -> torch.Tensor:
    x, y = x.to(device), y.to(device)
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
        logits = model(x)
    return F.cross_entropy(logits.float().flatten(0, 1), y.flatten(), ignore_index=IGNORE)


@torch.no_grad()
def validation_loss(model: GPT, data: list[tuple[list[int], int]], pad: int, batch: int, device: torch.device) -> float:
    """Mean loss per response token."""
    model.eval()
    total, count = 0.0, 0
    for i in range(0, len(data), batch):
        x, y = collate(data[i : i + batch], pad)
        n = int((y != IGNORE).sum())
        total += response_loss(model, x, y, device).item() * n
        count += n
    model.train()
    return total / max(1, count)


# ---- checkpoints: safetensors + JSON ----


RESUME_HINT = "remove the run's checkpoint folder, or start without --resume"


def save_checkpoint(folder: Path, model: GPT, optimizer: torch.optim.Optimizer, state: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    save_tensors({k: v.detach().cpu().clone() for k, v in model.state_dict().items()}, folder / "model.tmp")
    opt = optimizer.state_dict()
    tensors = {
        f"{index}.{name}": value.detach().cpu().contiguous().reshape(value.shape)
        for index, slots in opt["state"].items()
        for name, value in slots.items()
        if isinstance(value, torch.Tensor)
    }
    save_tensors(tensors, folder / "optimizer.tmp")
    groups = [{k: v for k, v in g.items() if k != "params"} | {"params": g["params"]} for g in opt["param_groups"]]
    (folder / "state.tmp").write_text(json.dumps(state | {"param_groups": groups}), encoding="utf-8")
    for name in ("model", "optimizer", "state"):  # replace only once all three are written
        suffix = "json" if name == "state" else "safetensors"
        (folder / f"{name}.tmp").replace(folder / f"{name}.{suffix}")


def load_checkpoint(folder: Path, model: GPT, optimizer: torch.optim.Optimizer) -> dict[str, Any]:
    """The run's state from `folder`, its weights and optimizer loaded; one CheckpointError for a checkpoint
    that is corrupt, truncated or of another model."""
    try:
        model.load_state_dict(load_tensors(folder / "model.safetensors", RESUME_HINT))
        state = read_json(folder / "state.json", "checkpoint state", RESUME_HINT)
        tensors = load_tensors(folder / "optimizer.safetensors", RESUME_HINT)
        slots: dict[int, dict[str, torch.Tensor]] = {}
        for key, value in tensors.items():
            index, name = key.split(".", 1)
            slots.setdefault(int(index), {})[name] = value
        optimizer.load_state_dict({"state": slots, "param_groups": state.pop("param_groups")})
        if not (isinstance(state.get("step"), int) and isinstance(state.get("rng"), list)
                and isinstance(state.get("best_val_loss"), int | float)):  # fmt: skip
            raise ValueError("state.json lacks the step, the best loss or the sampler's state")
    except LogptError:
        raise
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as e:  # RuntimeError: other shapes
        raise CheckpointError(f"{folder} is not a checkpoint of this run: {str(e).splitlines()[0]}", RESUME_HINT) from e
    return state


@dataclass
class Progress:
    """Where a run stands; checkpointed with the weights so `resume` continues from it."""

    step: int = 0
    best: float = float("inf")
    tokens: int = 0
    seconds: float = 0.0
    stale: int = 0  # validations since the best one
    last_val: float | None = None  # the latest validation loss (not checkpointed)

    def state(self) -> dict[str, Any]:
        return {"step": self.step, "best_val_loss": self.best, "tokens": self.tokens, "seconds": self.seconds,
                "stale": self.stale}  # fmt: skip


@dataclass(frozen=True)
class Stopping:
    """When a run ends before `steps`: after `patience` validations without a better loss, or after
    `max_seconds` of training in this run (then validated and checkpointed, so `--resume` goes on)."""

    patience: int | None = None
    max_seconds: float | None = None


def train_generator(
    model: GPT,
    tokenizer: Tokenizer,
    examples: list[Example],
    config: GeneratorTrainConfig,
    out: Path,
    *,
    device: torch.device | None = None,
    resume: bool = False,
    on_report: Callable[[Report], None] | None = None,
    stopping: Stopping = Stopping(),
) -> dict[str, Any]:
    """Train in place; the model ends with its best-validation weights. Returns a summary for provenance."""
    device = device or torch.device("cpu")
    pad = tokenizer.special("<|endoftext|>")
    encoded = [encode_example(e, tokenizer, prompt_format("logpt-digest"), config.block_size) for e in examples]
    n_val = min(config.val_examples, max(1, len(encoded) // 10))
    val, train = encoded[:n_val], encoded[n_val:]
    if not train:
        raise ValueError("no training examples left after the validation split")
    model.to(device).train()
    optimizer = adamw(model, config.lr, config.weight_decay)
    rng, run, checkpoint = random.Random(config.seed), Progress(), out / "checkpoint"
    if resume and (checkpoint / "state.json").is_file():
        state = load_checkpoint(checkpoint, model, optimizer)
        run = Progress(state["step"], state["best_val_loss"], state["tokens"], state["seconds"], state.get("stale", 0))
        rng.setstate((3, tuple(state["rng"]), None))
    out.mkdir(parents=True, exist_ok=True)
    best = out / "best.safetensors"
    best_state = load_tensors(best, RESUME_HINT) if resume and best.exists() else None
    started, stopped = run.seconds, "steps"
    with (out / "metrics.jsonl").open("a", encoding="utf-8") as metrics:
        while run.step < config.steps:
            report = train_step(model, optimizer, rng.sample(train, min(config.batch_size * config.grad_accum, len(train))),
                                run, config, pad, device)  # fmt: skip
            out_of_time = stopping.max_seconds is not None and run.seconds - started >= stopping.max_seconds
            if run.step % config.eval_every == 0 or run.step == config.steps or out_of_time:
                best_state = validate(model, val, pad, config.batch_size, device, run, best) or best_state
                report = replace(report, val_loss=run.last_val, best_val_loss=run.best)
                save_checkpoint(checkpoint, model, optimizer, run.state() | {"rng": list(rng.getstate()[1])})
            metrics.write(json.dumps(asdict(report) | {"seconds": round(run.seconds, 2)}) + "\n")
            metrics.flush()
            if on_report is not None:
                on_report(report)
            if stopping.patience is not None and run.stale >= stopping.patience:
                stopped = "patience"
                break
            if out_of_time:
                stopped = "time"
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return {"steps": run.step, "best_val_loss": round(run.best, 4), "train_examples": len(train),
            "val_examples": len(val), "tokens": run.tokens, "seconds": round(run.seconds, 1), "stopped": stopped}  # fmt: skip


def validate(model: GPT, val: list[tuple[list[int], int]], pad: int, batch: int, device: torch.device, run: Progress,
             best: Path) -> dict[str, torch.Tensor] | None:  # fmt: skip
    """Measure the validation loss into `run`; a new best is saved to `best` and returned (else None)."""
    run.last_val = validation_loss(model, val, pad, batch, device)
    if run.last_val >= run.best:
        run.stale += 1
        return None
    run.best, run.stale = run.last_val, 0
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    save_tensors(state, best)
    return state


def train_step(
    model: GPT,
    optimizer: torch.optim.Optimizer,
    drawn: list[tuple[list[int], int]],
    run: Progress,
    config: GeneratorTrainConfig,
    pad: int,
    device: torch.device,
) -> Report:
    """One optimizer step over the drawn examples, in micro-batches of similar length (less padding)."""
    t0 = time.perf_counter()
    for group in optimizer.param_groups:
        group["lr"] = lr_at(run.step, config)
    n_tokens, total = 0, 0.0
    drawn = sorted(drawn, key=lambda item: len(item[0]))
    for i in range(0, len(drawn), config.batch_size):
        x, y = collate(drawn[i : i + config.batch_size], pad)
        loss = response_loss(model, x, y, device) / math.ceil(len(drawn) / config.batch_size)
        loss.backward()
        total += loss.item()
        n_tokens += x.numel()
    torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    dt = time.perf_counter() - t0
    run.step, run.tokens, run.seconds = run.step + 1, run.tokens + n_tokens, run.seconds + dt
    return Report(run.step, total, optimizer.param_groups[0]["lr"], n_tokens / dt)


def plot_losses(metrics_path: Path, png: Path) -> bool:
    """The loss curve as a PNG; False when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ModuleNotFoundError:
        return False
    rows = [json.loads(line) for line in metrics_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    ax.plot([r["step"] for r in rows], [r["loss"] for r in rows], lw=0.8, alpha=0.6, label="train")
    val = [r for r in rows if r.get("val_loss") is not None]
    ax.plot([r["step"] for r in val], [r["val_loss"] for r in val], "o-", label="validation")
    ax.set(xlabel="step", ylabel="loss per response token", yscale="log", title="logpt generator training")
    ax.legend()
    fig.tight_layout()
    fig.savefig(png)
    plt.close(fig)
    return True
