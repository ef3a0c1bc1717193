"""Start `logpt train generator` from a pretrained bundle (LoGPT's recipe: fine-tune GPT-2).

`start_from(path)` loads a generator bundle (an imported GPT-2: `logpt import
hf`), adds `<|endoftext|>` and LoGPT's six control tokens to its tokenizer
where it lacks them (after its largest id, so no id changes meaning) and grows
the model's embedding (and an untied output head) by as many rows, each new
row the mean of the old ones: the new tokens start as an average token rather
than noise, and every old token's logits are exactly what they were. The
architecture, context length and tokenizer are the pretrained model's; the
trainer writes `logpt-digest` prompts with them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import torch

from engine.analysis.prompts import load_generator
from engine.errors import LogptError
from engine.lm.devices import placement
from engine.lm.model import GPT
from engine.lm.tokenizer import ENDOFTEXT, LOGPT_SPECIALS, PATTERNS, Tokenizer

FINETUNE_LR = 1e-4  # peak learning rate when starting from pretrained weights (from scratch: the preset's)


@dataclass
class Start:
    model: GPT
    tokenizer: Tokenizer
    pattern: str  # the tokenizer's split pattern, by name (engine.lm.tokenizer.PATTERNS)
    added: list[str]  # control tokens added to the vocabulary
    name: str


def with_control_tokens(tokenizer: Tokenizer, pattern: str, first_free: int) -> tuple[Tokenizer, list[str]]:
    """The tokenizer plus the end-of-text and LoGPT control tokens it lacks, numbered from `first_free`."""
    specials = dict(tokenizer.special_tokens)
    added = [name for name in (ENDOFTEXT, *LOGPT_SPECIALS) if name not in specials]
    for i, name in enumerate(added):
        specials[name] = first_free + i
    return Tokenizer(tokenizer.ranks, specials, pattern=PATTERNS[pattern], name="init"), added


def resize_vocab(model: GPT, n_vocab: int) -> GPT:
    """A copy of `model` with `n_vocab` token rows: the old rows as they were, new rows the mean of the old."""
    old = model.config.vocab_size
    if n_vocab < old:
        raise ValueError(f"cannot shrink a vocabulary of {old} to {n_vocab}")
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    for key in ("transformer.wte.weight", "lm_head.weight"):
        rows = state[key]
        state[key] = torch.cat([rows, rows.mean(0, keepdim=True).expand(n_vocab - old, -1)])
    grown = GPT(dataclasses.replace(model.config, vocab_size=n_vocab))
    grown.load_state_dict(state)
    return grown


def start_from(path: Path) -> Start:
    """The pretrained bundle at `path`, ready to fine-tune: control tokens added, embeddings grown."""
    bundle = load_generator(path, placement("cpu"))
    if bundle.config.kind != "generator":
        raise LogptError(
            f"{path} is a {bundle.config.kind} bundle", "--init takes a generator (e.g. from `logpt import hf`)"
        )
    first_free = max(bundle.tokenizer.n_vocab, bundle.model.config.vocab_size)
    tokenizer, added = with_control_tokens(bundle.tokenizer, bundle.config.tokenizer.pattern, first_free)
    model = resize_vocab(bundle.model, max(tokenizer.n_vocab, bundle.model.config.vocab_size))
    return Start(model, tokenizer, bundle.config.tokenizer.pattern, added, bundle.name)
