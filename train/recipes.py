"""Training recipes: the tokenizer and the analysis model, from data to a saved bundle.

`logpt train tokenizer` and `logpt train generator` are thin CLI commands
over these functions, which run as well from a test or a notebook. A recipe
prints nothing: it reports through `RecipeEvents` (the CLI draws progress
bars from them; `RecipeEvents()` itself ignores them).
"""

from __future__ import annotations

import dataclasses
import json
import platform
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import InputError, LogptError
from engine.lm.tokenizer import ENDOFTEXT, LOGPT_SPECIALS, Tokenizer, read_ranks, write_ranks

DEFAULT_LOGHUB = Path("../shared/datasets/loghub")
SYNTHETIC_TOKENIZER_WINDOWS = 400  # made-up windows beside Loghub in the tokenizer's corpus


class RecipeEvents:
    """What a recipe reports while it runs; override what you want to show."""

    def stage(self, text: str) -> None:
        """A long step starts (training a tokenizer, …)."""

    def examples(self, done: int, total: int | None) -> None:
        """Training examples built so far."""

    def report(self, report: Any) -> None:  # noqa: ANN401 - train.generator.Report
        """An optimizer step finished (with a validation loss every eval_every steps)."""


QUIET = RecipeEvents()  # events nobody shows


def loghub_dir(path: Path | None) -> Path | None:
    """The Loghub samples to use: `path`, or ../shared/datasets/loghub when it exists, or none."""
    if path is not None and not path.is_dir():
        raise InputError(f"no Loghub folder at {path}", "pass --loghub DIR or leave it out to use synthetic data only")
    if path is None and DEFAULT_LOGHUB.is_dir():
        return DEFAULT_LOGHUB
    return path


def tokenizer_corpus(loghub: Path | None, seed: int = 0) -> tuple[list[str], dict[str, str]]:
    """(training texts, held-out texts by name): Loghub minus the held-out systems, made-up windows, and the
    digests and analyst replies of some of them (text the tokenizer must also know)."""
    from engine.analysis.analyst import analyze
    from engine.analysis.digest import build_digest
    from engine.analysis.queries import NAMES
    from train.generator_data import HELD_OUT_SYSTEMS, TRAIN_STYLES
    from train.synth.incidents import INCIDENTS, synthetic_window

    texts, held = [], {}
    if loghub is not None:
        for folder in sorted(p for p in loghub.iterdir() if (p / f"{p.name}_2k.log").is_file()):
            text = (folder / f"{folder.name}_2k.log").read_text(encoding="utf-8", errors="replace")
            if folder.name in HELD_OUT_SYSTEMS:
                held[folder.name] = text
            else:
                texts.append(text)
    rng = random.Random(seed)
    for _ in range(SYNTHETIC_TOKENIZER_WINDOWS):
        window = synthetic_window(rng, rng.choice(TRAIN_STYLES), 40, rng.choice((None, *INCIDENTS)))
        texts.append("\n".join(window))
    for text in texts[: len(texts) // 2 : 20]:
        digest = build_digest(text.splitlines()[:60])
        texts.extend([digest.render()] + [analyze(digest, q) for q in NAMES])
    return texts, held


@dataclass(frozen=True)
class TokenizerResult:
    ranks: int
    special_tokens: int
    held_out_bytes_per_token: dict[str, float]


def train_tokenizer(
    out_file: Path, vocab_size: int, loghub: Path | None, events: RecipeEvents = QUIET
) -> TokenizerResult:
    """A byte-level BPE on log text, written as a tiktoken ranks file; bytes per token on held-out systems."""
    from train.tokenizer import bytes_per_token, train_bpe

    texts, held = tokenizer_corpus(loghub)
    events.stage(f"training a {vocab_size}-rank BPE on {sum(map(len, texts)) / 1e6:.1f} MB of log text")
    tokenizer = train_bpe(texts, vocab_size)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    write_ranks(out_file, tokenizer.ranks)
    held_out = {name: bytes_per_token(tokenizer, text) for name, text in held.items()}
    return TokenizerResult(len(tokenizer.ranks), len(tokenizer.special_tokens), held_out)


@dataclass(frozen=True)
class GeneratorRecipe:
    """Everything `logpt train generator` decides: where, what data, how long, on what device."""

    out: Path  # the bundle folder
    work: Path = Path("generator-work")  # tokenizer, examples, checkpoints, metrics, loss curve
    preset: str = "cpu"  # cpu, gpu or tiny (train.generator.PRESETS)
    build_data: bool = False  # (re)build the tokenizer and the examples even if present
    loghub: Path | None = None
    extra: Sequence[Path] = ()  # more examples, JSON lines in the LoGPT format
    synthetic: int | None = None  # synthetic training windows (None: by preset)
    made_up: int | None = None  # windows of made-up traffic (None: by preset)
    steps: int | None = None  # optimizer steps (None: by preset)
    resume: bool = False
    device: str = "auto"
    force: bool = False  # replace an existing bundle at `out`
    init: Path | None = None  # start from this pretrained generator bundle (train.init), not from scratch
    patience: int | None = None  # stop after this many validations without a better loss
    max_minutes: float | None = None  # stop after this many minutes of training in this run (resumable)


@dataclass(frozen=True)
class GeneratorResult:
    bundle: Path
    summary: dict[str, Any]  # train.generator.train_generator's: steps, best_val_loss, seconds, …
    loss_curve: Path | None
    examples_written: tuple[int, int] | None  # (training, held-out) when they were built in this run


def train_generator_recipe(recipe: GeneratorRecipe, events: RecipeEvents = QUIET) -> GeneratorResult:
    """Tokenizer and examples (built once in the work folder), training, then the bundle with its provenance."""
    import torch

    from engine.lm.devices import resolve_device
    from engine.lm.model import GPT
    from train.generator import Stopping, model_config, plot_losses, train_generator
    from train.generator_data import read_examples

    config, loghub = _preset(recipe), loghub_dir(recipe.loghub)
    recipe.work.mkdir(parents=True, exist_ok=True)
    start = None
    if recipe.init is not None:
        from train.init import FINETUNE_LR, start_from

        events.stage(f"loading {recipe.init}")
        start = start_from(recipe.init)
        c = start.model.config
        config = dataclasses.replace(config, n_layer=c.n_layer, n_head=c.n_head, n_embd=c.n_embd,
                                     block_size=c.block_size, vocab_size=len(start.tokenizer.ranks), lr=FINETUNE_LR)  # fmt: skip
    tokenizer = start.tokenizer if start else _tokenizer(recipe, config, loghub, events)
    if start is not None:  # the presets' contexts are ours; a pretrained model's may be too short
        _check_room(config, tokenizer)
    written = _examples(recipe, config, tokenizer, loghub, events)
    examples = read_examples(recipe.work / "train.jsonl")
    for path in recipe.extra:
        examples.extend(read_examples(path))
    if not recipe.resume:
        (recipe.work / "metrics.jsonl").unlink(missing_ok=True)
    torch.manual_seed(config.seed)
    if start is not None:
        model = start.model
    else:
        model = GPT(model_config(config, tokenizer))
        model.init_weights(config.seed)
    device = resolve_device(recipe.device)
    stopping = Stopping(recipe.patience, None if recipe.max_minutes is None else recipe.max_minutes * 60)
    summary = train_generator(model, tokenizer, examples, config, recipe.work, device=device, resume=recipe.resume,
                              on_report=events.report, stopping=stopping)  # fmt: skip
    plotted = plot_losses(recipe.work / "metrics.jsonl", recipe.work / "loss.png")
    provenance = _provenance(recipe, config, loghub, examples, summary, device)
    if start is not None:
        provenance["init"] = {"bundle": start.name, "path": str(recipe.init), "added_tokens": start.added}
    _save(recipe, model, tokenizer, provenance, start.pattern if start else "gpt2")
    return GeneratorResult(recipe.out, summary, recipe.work / "loss.png" if plotted else None, written)


MIN_LOG_TOKENS = 64  # a context that leaves less for the log (after the digest and the reply) cannot analyse


def _check_room(config: Any, tokenizer: Tokenizer) -> None:  # noqa: ANN401
    """A clear error, before any training, when the context cannot hold a digest prompt, a reply and some log."""
    from engine.analysis.prompts import prompt_format

    overhead = prompt_format("logpt-digest").overhead(tokenizer, "action_items")
    if config.block_size - config.reply_tokens - overhead < MIN_LOG_TOKENS:
        need = config.reply_tokens + overhead + MIN_LOG_TOKENS
        raise LogptError(f"a {config.block_size}-token context cannot hold a digest prompt, a reply and a log chunk",
                         f"start from a model with a context of at least {need} tokens")  # fmt: skip


def _preset(recipe: GeneratorRecipe) -> Any:  # noqa: ANN401 - train.generator.GeneratorTrainConfig
    """The recipe's training configuration: its preset, with its --steps."""
    from train.generator import PRESETS

    if recipe.preset not in PRESETS:
        raise LogptError(f"unknown preset {recipe.preset!r}", f"choose one of {', '.join(PRESETS)}")
    config = PRESETS[recipe.preset]
    return config if recipe.steps is None else dataclasses.replace(config, steps=recipe.steps)


def build_data(recipe: GeneratorRecipe, events: RecipeEvents = QUIET) -> tuple[int, int] | None:
    """Only the data step of `train_generator_recipe` (the work folder's tokenizer and examples; counts when built)."""
    config, loghub = _preset(recipe), loghub_dir(recipe.loghub)
    recipe.work.mkdir(parents=True, exist_ok=True)
    return _examples(recipe, config, _tokenizer(recipe, config, loghub, events), loghub, events)


def _tokenizer(recipe: GeneratorRecipe, config: Any, loghub: Path | None, events: RecipeEvents) -> Tokenizer:  # noqa: ANN401
    """The work folder's tokenizer, trained first when missing or asked to rebuild; specials on top of the ranks."""
    from train.tokenizer import train_bpe

    ranks_path = recipe.work / "tokenizer.tiktoken"
    if recipe.build_data or not ranks_path.is_file():
        texts, _ = tokenizer_corpus(loghub, config.seed)
        events.stage(f"training a {config.vocab_size}-rank tokenizer")
        write_ranks(ranks_path, train_bpe(texts, config.vocab_size).ranks)
    ranks = read_ranks(ranks_path)
    return Tokenizer(ranks, {name: len(ranks) + i for i, name in enumerate((ENDOFTEXT, *LOGPT_SPECIALS))})


def _examples(
    recipe: GeneratorRecipe,
    config: Any,
    tokenizer: Tokenizer,
    loghub: Path | None,
    events: RecipeEvents,  # noqa: ANN401
) -> tuple[int, int] | None:
    """Build the training and held-out examples unless the work folder has them; their counts when built."""
    from engine.analysis.prompts import DIGEST_TOKENS, prompt_format
    from train.generator_data import DataConfig, build_examples, write_examples

    train_path = recipe.work / "train.jsonl"
    if not recipe.build_data and train_path.is_file():
        return None
    tiny = recipe.preset == "tiny"
    data = DataConfig(
        loghub, synthetic_train=recipe.synthetic if recipe.synthetic is not None else (200 if tiny else 24_000),
        synthetic_eval=20 if tiny else 300,
        made_up_train=recipe.made_up if recipe.made_up is not None else (40 if tiny else 24_000),
        loghub_passes=1 if tiny else 4, seed=config.seed,
    )  # fmt: skip
    budget = config.block_size - config.reply_tokens - prompt_format("logpt-digest").overhead(tokenizer, "action_items")
    train, held = build_examples(tokenizer, budget, DIGEST_TOKENS, data, on_progress=events.examples)
    write_examples(train_path, train)
    write_examples(recipe.work / "eval.jsonl", held)
    return len(train), len(held)


def _provenance(recipe: GeneratorRecipe, config: Any, loghub: Path | None, examples: list, summary: dict,  # noqa: ANN401
                device: Any) -> dict[str, Any]:  # noqa: ANN401  # fmt: skip
    import torch

    name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or platform.machine()
    return {
        "trainer": "logpt train generator",
        "preset": recipe.preset,
        "config": dataclasses.asdict(config),
        "data": {
            "loghub": str(loghub) if loghub else None,
            "examples": len(examples),
            "by_source": dict(Counter(e.source.split(":")[0] for e in examples)),
            "extra": [str(p) for p in recipe.extra],
            "held_out": "Loghub Zookeeper, OpenStack, Mac; synthetic JSON-lines logs",
        },
        "training": summary,
        "device": f"{device.type}: {name}",
        "torch": torch.__version__,
    }


def _save(recipe: GeneratorRecipe, model: Any, tokenizer: Tokenizer, provenance: dict[str, Any],  # noqa: ANN401
          pattern: str = "gpt2") -> None:  # fmt: skip
    from engine.lm.bundle import BundleConfig, TokenizerSpec, save_model

    bundle = BundleConfig(
        model=model.config,
        tokenizer=TokenizerSpec(pattern=pattern, special_tokens=tokenizer.special_tokens, eot_token=ENDOFTEXT),
        prompt_format="logpt-digest",
        description="logpt analysis model: summary, root cause and action items grounded in the chunk's digest",
        provenance=provenance,
    )
    save_model(recipe.out, bundle, model.cpu(), tokenizer.ranks, force=recipe.force)
    (recipe.work / "provenance.json").write_text(json.dumps(provenance, indent=2) + "\n", encoding="utf-8")
