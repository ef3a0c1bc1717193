"""A BPE tokenizer on tiktoken, built from a ranks file and special tokens.

Ranks files use tiktoken's format: one `base64(token bytes) rank` per line.
Nothing is downloaded: the ranks come from a bundle. Log text is always
encoded as plain text, so a log line that contains `<|log_end|>` cannot
inject a control token; special tokens enter prompts only by id.
"""

from __future__ import annotations

import base64
import codecs
from collections.abc import Iterable, Mapping
from pathlib import Path

import tiktoken

from engine.errors import BundleError, InputError
from engine.sidefiles import read_text

# GPT-2's pre-tokenisation pattern (tiktoken's r50k_base / gpt2).
GPT2_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
PATTERNS = {"gpt2": GPT2_PATTERN}

ENDOFTEXT = "<|endoftext|>"
# LoGPT's control tokens, appended to the base vocabulary in this order.
LOGPT_SPECIALS = (
    "<|log_start|>",
    "<|log_end|>",
    "<|query_start|>",
    "<|query_end|>",
    "<|response_start|>",
    "<|response_end|>",
)


MAX_VOCAB = 1 << 22  # as engine.lm.config bounds vocab_size


def read_ranks(path: Path) -> dict[bytes, int]:
    """Parse a tiktoken ranks file; a malformed file raises BundleError."""
    ranks: dict[bytes, int] = {}
    try:
        text = read_text(path, "tokenizer ranks", "re-create the bundle")
    except InputError as e:
        raise BundleError(e.message, e.hint) from None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            token, rank = line.split()
            ranks[base64.b64decode(token, validate=True)] = int(rank)
            if int(rank) < 0:
                raise ValueError("a negative rank")
        except ValueError as e:
            raise BundleError(f"{path}:{number}: not a tiktoken ranks line", "re-create the bundle") from e
    if not ranks:
        raise BundleError(f"tokenizer ranks {path} are empty", "re-create the bundle")
    return ranks


def write_ranks(path: Path, ranks: Mapping[bytes, int]) -> None:
    lines = (
        f"{base64.b64encode(token).decode()} {rank}" for token, rank in sorted(ranks.items(), key=lambda kv: kv[1])
    )
    path.write_text("\n".join(lines) + "\n", encoding="ascii")


def byte_level_ranks() -> dict[bytes, int]:
    """The 256 single bytes, ranks 0..255: the smallest valid byte-level BPE."""
    return {bytes([b]): b for b in range(256)}


class Tokenizer:
    """Text ↔ token ids for one bundle."""

    def __init__(
        self,
        ranks: Mapping[bytes, int],
        special_tokens: Mapping[str, int],
        *,
        pattern: str = GPT2_PATTERN,
        name: str = "logpt",
    ) -> None:
        missing = [b for b in range(256) if bytes([b]) not in ranks]
        if missing:
            raise BundleError(
                f"tokenizer ranks lack {len(missing)} of the 256 single bytes",
                "a byte-level BPE must contain every byte",
            )
        n_ranks = len(ranks)
        if len(set(ranks.values())) != n_ranks or not all(0 <= r < n_ranks for r in ranks.values()):
            raise BundleError(
                "tokenizer ranks must be the numbers 0..N-1, each once",
                "the ranks file is corrupt: re-create the bundle",
            )
        if not all(type(i) is int and 0 <= i < MAX_VOCAB for i in special_tokens.values()):
            raise BundleError("special token ids must be integers in range", "check the bundle's config.json")
        clash = set(special_tokens.values()) & set(ranks.values())
        if clash:
            raise BundleError(
                f"special token ids {sorted(clash)[:5]} collide with BPE ranks", "check the bundle's config.json"
            )
        self.special_tokens = dict(special_tokens)
        self.ranks = dict(ranks)  # what a bundle saves
        self._encoding = tiktoken.Encoding(
            name=name, pat_str=pattern, mergeable_ranks=dict(ranks), special_tokens=self.special_tokens
        )

    @property
    def encoding(self) -> tiktoken.Encoding:
        """The tiktoken encoding itself (for libraries that build their own tables from it)."""
        return self._encoding

    @property
    def n_vocab(self) -> int:
        """One past the largest token id."""
        return self._encoding.n_vocab

    def encode(self, text: str) -> list[int]:
        """Token ids for text; special-token strings in it are plain text."""
        return self._encoding.encode_ordinary(text)

    def encode_batch(self, texts: Iterable[str]) -> list[list[int]]:
        return self._encoding.encode_ordinary_batch(list(texts))

    def count(self, text: str) -> int:
        return len(self._encoding.encode_ordinary(text))

    def special(self, token: str) -> int:
        try:
            return self.special_tokens[token]
        except KeyError:
            raise BundleError(f"tokenizer has no special token {token}", "check the bundle's config.json") from None

    def decode_bytes(self, ids: Iterable[int]) -> bytes:
        return self._encoding.decode_bytes(list(ids))

    def decode(self, ids: Iterable[int]) -> str:
        return self.decode_bytes(ids).decode("utf-8", errors="replace")

    def decoder(self) -> IncrementalDecoder:
        return IncrementalDecoder(self)


class IncrementalDecoder:
    """Turns a stream of token ids into text without ever emitting half a UTF-8 character."""

    def __init__(self, tokenizer: Tokenizer) -> None:
        self._tokenizer = tokenizer
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def feed(self, token_id: int) -> str:
        return self._utf8.decode(self._tokenizer.decode_bytes([token_id]))

    def flush(self) -> str:
        """Whatever bytes are still pending, with an incomplete character replaced."""
        return self._utf8.decode(b"", final=True)
