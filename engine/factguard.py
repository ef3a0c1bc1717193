"""Fact-constrained decoding: a reply may only state the numbers, addresses, ids and paths of its sources.

`FactGuard` is a logits processor for `engine.generate.generate`. Before each
token is chosen it tries the candidates, most likely first, against the reply
so far: a candidate is refused when it would complete a fact token (the
pattern of `engine.grounding`) that the sources (the chunk and its digest)
lack, or leave an unfinished one that no source fact begins with. The most
likely acceptable token wins (greedy), or every acceptable one among the
candidates stays in play (sampling). When no token at all is acceptable
nothing is masked: the reply goes on and the grounding check reports it.

It works on bytes, so a token that splits a UTF-8 character is no problem;
the fact pattern is the grounding pattern compiled for bytes (ASCII `\\w`).
What it does not do: judge whether a grounded fact is the right one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import torch

from engine.grounding import FACT_TOKEN
from engine.tokenizer import Tokenizer

FACT_BYTES = re.compile(FACT_TOKEN.pattern.encode())
RUN = re.compile(rb"[\w.,:/@-]*\Z")  # the bytes a fact token can be made of, at the end of the text
KEEP_BYTES = 2048  # the reply's tail kept for matching; facts are far shorter
CANDIDATES = 64  # tried first, before the whole vocabulary


def facts_of(data: bytes) -> list[bytes]:
    """The fact tokens of `data`, as the grounding check takes them (trailing `.,:` dropped)."""
    return [m.group(0).rstrip(b".,:") for m in FACT_BYTES.finditer(data)]


class FactGuard:
    def __init__(
        self,
        token_bytes: Callable[[int], bytes],
        sources: Iterable[str],
        stop_ids: Iterable[int] = (),
        *,
        greedy: bool = True,
    ) -> None:
        self.token_bytes = token_bytes
        self.known = {fact for source in sources for fact in facts_of(source.encode("utf-8", "replace"))}
        self.prefixes = {fact[:i] for fact in self.known for i in range(1, len(fact) + 1)}
        self.stop_ids = frozenset(stop_ids)
        self.greedy = greedy
        self.data = b""  # the reply so far (its tail)
        self.run_start = 0  # where the fact-like run at the end of `data` begins (the same for every candidate)
        self.masked_steps = 0  # steps where the model's first choice was refused
        self.stuck_steps = 0  # steps where nothing was acceptable

    @classmethod
    def for_tokenizer(cls, tokenizer: Tokenizer, sources: Iterable[str], stop_ids: Iterable[int], *,
                      greedy: bool = True) -> FactGuard:  # fmt: skip
        """A guard over a bundle's tokenizer (tokens decoded one at a time, as bytes)."""
        return cls(lambda i: tokenizer.decode_bytes([i]), sources, stop_ids, greedy=greedy)

    def acceptable(self, token_id: int) -> bool:
        """Would the reply, with this token next, state only known facts (and be on the way to one)?"""
        run_start = self.run_start
        if token_id in self.stop_ids:  # the reply ends: its last run must be complete
            return all(f in self.known for f in facts_of(self.data[run_start:]))
        new = self.data + self.token_bytes(token_id)
        tail_start = len(new) - len(RUN.search(new).group(0))  # type: ignore[union-attr]
        if any(f not in self.known for f in facts_of(new[run_start:tail_start])):
            return False
        run = new[tail_start:]
        matches = list(FACT_BYTES.finditer(run))
        if not matches:
            return True
        if any(m.group(0).rstrip(b".,:") not in self.known for m in matches[:-1]):
            return False
        # The run's last fact may be unfinished: with what follows it in the run ("10.0.0.") it must begin a
        # known fact, unless it is a known fact already (then a "." or "/tcp" after it is not part of it).
        last = matches[-1]
        return run[last.start() :] in self.prefixes or last.group(0).rstrip(b".,:") in self.known

    def __call__(self, logits: torch.Tensor) -> torch.Tensor:
        """Mask the last-position logits (1, V) to the acceptable tokens."""
        row = logits[0]
        order = torch.topk(row, min(CANDIDATES, row.numel())).indices.tolist()
        allowed = self._scan(order)
        if not allowed:  # the likely tokens all fail: look through the rest, most likely first
            allowed = self._scan(torch.argsort(row, descending=True)[len(order) :].tolist())
        if not allowed:
            self.stuck_steps += 1
            return logits
        if allowed[0] == order[0] and (self.greedy or len(allowed) == len(order)):
            return logits  # the model's own choice stands
        self.masked_steps += 1
        masked = torch.full_like(logits, float("-inf"))
        masked[0, allowed] = row[allowed]
        return masked

    def _scan(self, ids: list[int]) -> list[int]:
        allowed = []
        for token_id in ids:
            if self.acceptable(token_id):
                allowed.append(token_id)
                if self.greedy:
                    break
        return allowed

    def accept(self, token_id: int) -> None:
        """The token chosen: it is part of the reply now."""
        if token_id not in self.stop_ids:
            self.data = (self.data + self.token_bytes(token_id))[-KEEP_BYTES:]
            self.run_start = len(self.data) - len(RUN.search(self.data).group(0))  # type: ignore[union-attr]
