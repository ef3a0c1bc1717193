"""Grammar-constrained decoding with llguidance: a logits processor from a Lark grammar.

llguidance (the structured-generation engine behind vLLM's, SGLang's and
llama.cpp's grammars) builds its token tables straight from a tiktoken
`Encoding`, compiles a Lark grammar in about a millisecond and computes each
step's mask of allowed tokens in microseconds. `GrammarConstraint` is a
`LogitsProcessor` for `engine.lm.generate.generate`: before each choice it
masks every token the grammar does not allow; when the grammar is complete
only the stop tokens remain. The engine still sees only token ids.

A grammar that does not compile raises `GrammarError`; should the matcher
fail mid-reply (a token it refused was forced on it), the constraint lets go
and says so in `error` rather than masking every token.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable

import numpy as np
import torch
from llguidance import LLMatcher, LLTokenizer
from llguidance.tiktoken import lltokenizer_from_encoding

from engine.errors import LogptError
from engine.lm.tokenizer import Tokenizer

_TABLES: weakref.WeakKeyDictionary[Tokenizer, dict[tuple[int, ...], LLTokenizer]] = weakref.WeakKeyDictionary()


class GrammarError(LogptError):
    pass


def grammar_tokenizer(tokenizer: Tokenizer, stop_ids: Iterable[int]) -> LLTokenizer:
    """llguidance's tables for a bundle's tokenizer, ending at `stop_ids` (built once per tokenizer, ~10 ms)."""
    stops = tuple(sorted(stop_ids))
    if not stops:
        raise GrammarError("a grammar-constrained reply needs a stop token", "use --constrain off for this model")
    tables = _TABLES.setdefault(tokenizer, {})
    if stops not in tables:
        tables[stops] = lltokenizer_from_encoding(tokenizer.encoding, eos_token=list(stops))
    return tables[stops]


class GrammarConstraint:
    """Holds a reply to the language of a Lark grammar, one token at a time."""

    def __init__(self, tokenizer: Tokenizer, grammar: str, stop_ids: Iterable[int]) -> None:
        self.matcher = LLMatcher(grammar_tokenizer(tokenizer, stop_ids), grammar, log_level=0)
        if self.matcher.is_error():
            raise GrammarError(f"reply grammar does not compile: {self.matcher.get_error()}", "this is a bug in logpt")
        self.n_vocab = tokenizer.n_vocab
        self.masked_steps = 0  # steps where the model's first choice was outside the grammar
        self.error: str | None = None

    def allowed(self) -> np.ndarray:
        """The tokens the grammar allows next, as a boolean array over the tokenizer's ids."""
        return self._bits(self.n_vocab).astype(bool)

    def _bits(self, width: int) -> np.ndarray:
        """One uint8 0/1 per id up to `width` (ids past the tokenizer's are 0: never allowed)."""
        bits = np.unpackbits(np.frombuffer(self.matcher.compute_bitmask(), dtype=np.uint8), bitorder="little")
        out = np.zeros(width, dtype=np.uint8)
        n = min(width, self.n_vocab)
        out[:n] = bits[:n]
        return out

    def __call__(self, logits: torch.Tensor) -> torch.Tensor:
        """Mask the last-position logits (1, V) to the tokens the grammar allows."""
        if self.error is not None:
            return logits
        blocked = self._bits(logits.shape[-1]) == 0
        if blocked.all():  # only after an error; never mask everything
            self.error = self.matcher.get_error() or "the grammar allows no token"
            return logits
        self.masked_steps += bool(blocked[int(logits[0].argmax())])
        if logits.device.type == "cpu" and logits.dtype == torch.float32:  # numpy indexing: half the time of torch's
            masked = logits.detach().numpy().copy()
            masked[0, blocked] = -np.inf
            return torch.from_numpy(masked)
        return logits.masked_fill(torch.from_numpy(blocked).to(logits.device), float("-inf"))

    def accept(self, token_id: int) -> None:
        """The token chosen: the grammar moves past it."""
        if self.error is None and not self.matcher.consume_token(token_id):
            self.error = self.matcher.get_error() or f"token {token_id} is outside the grammar"

    @property
    def complete(self) -> bool:
        """The reply so far is a whole sentence of the grammar."""
        return self.matcher.is_accepting()
