"""`logpt train tokenizer`: a byte-level BPE trained on log text, saved as tiktoken ranks.

Hugging Face `tokenizers` trains it (its ByteLevel pre-tokenizer uses GPT-2's
split pattern); the result is converted to tiktoken ranks, which is what
bundles carry, with `<|endoftext|>` and LoGPT's six control tokens after the
ranks. `bytes_per_token` measures compression on held-out text.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from pathlib import Path

from engine.errors import LogptError
from engine.lm.importers.gpt2_vocab import load_gpt2_vocab
from engine.lm.tokenizer import ENDOFTEXT, LOGPT_SPECIALS, Tokenizer

MIN_VOCAB = 256 + 1  # every byte, and at least one merge


def train_bpe(texts: Iterable[str], vocab_size: int, *, min_frequency: int = 2) -> Tokenizer:
    """A byte-level BPE of `vocab_size` ranks (specials come on top) trained on `texts`."""
    if vocab_size < MIN_VOCAB:
        raise LogptError(f"--vocab-size {vocab_size} is too small", f"use at least {MIN_VOCAB}")
    try:
        from tokenizers import ByteLevelBPETokenizer
    except ModuleNotFoundError:
        raise LogptError(
            "training a tokenizer needs the `tokenizers` package", "pip install 'logpt-tui[train]'"
        ) from None
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(texts, vocab_size=vocab_size, min_frequency=min_frequency, show_progress=False)
    with tempfile.TemporaryDirectory() as tmp:
        bpe.save_model(tmp)
        ranks, _ = load_gpt2_vocab(Path(tmp) / "vocab.json", Path(tmp) / "merges.txt")
    names = (ENDOFTEXT, *LOGPT_SPECIALS)
    return Tokenizer(ranks, {name: len(ranks) + i for i, name in enumerate(names)})


def bytes_per_token(tokenizer: Tokenizer, text: str) -> float:
    n = tokenizer.count(text)
    return len(text.encode("utf-8")) / n if n else 0.0
