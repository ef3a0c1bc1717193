"""Fact-constrained decoding: a reply may only state what its sources say.

`FactGuard` is a logits processor for `engine.lm.generate.generate`. Before each
token is chosen it tries the candidates, most likely first, against the reply
so far. A candidate is refused when it would

- complete a fact token (the pattern of `engine.analysis.grounding`: numbers,
  addresses, ids, paths) that the sources (the chunk and its digest) lack, or
  leave an unfinished one that no source fact begins with;
- put text between backticks that is not copied from one line of the sources
  or of the `quotable` texts (the knowledge base's remedies): quotes are
  verbatim or absent;
- open a line in bold other than as a field (`**Category:**`,
  `**Signature:**`) with one of the values the caller lists for it (those the
  digest supports), or write a field twice;
- make the reply not begin with `start` (the query's heading);
- end the reply in a loop: the same text of up to LOOP_UNIT bytes LOOP_REPEATS
  times in a row (`from line from line from line from line`), unless the
  sources hold that run (`0:0:0:0:0:0:0:0:2181` in a ZooKeeper line).

The most likely acceptable token wins (greedy), or every acceptable one among
the candidates stays in play (sampling). When no token at all is acceptable
nothing is masked: the reply goes on and the grounding check reports it.

It works on bytes, so a token that splits a UTF-8 character is no problem;
the fact pattern is the grounding pattern compiled for bytes (ASCII `\\w`).
What it does not do: judge whether a grounded fact, quote or value is the
right one; the model still chooses among them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

import torch

from engine.analysis.grounding import FACT_TOKEN
from engine.lm.tokenizer import Tokenizer

FACT_BYTES = re.compile(FACT_TOKEN.pattern.encode())
RUN = re.compile(rb"[\w.,:/@-]*\Z")  # the bytes a fact token can be made of, at the end of the text
KEEP_BYTES = 2048  # the reply's tail kept for matching; facts are far shorter
CANDIDATES = 64  # tried first, before the whole vocabulary
QUOTE = b"`"
FIELD_OPENS = b"**"  # a line opening in bold is a field: `**Label:** value`
VALUE_GOES_ON = b" ("  # a value ends its line, or goes on in parentheses: `**Signature:** Disk full (3 lines …)`
LOOP_UNIT, LOOP_REPEATS = 32, 4  # a loop: one text of up to 32 bytes, four times in a row


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
        quotable: Iterable[str] = (),
        fields: Mapping[str, Iterable[str]] | None = None,
        start: str = "",
    ) -> None:
        self.token_bytes = token_bytes
        encoded = [source.encode("utf-8", "replace") for source in sources]
        self.known = {fact for source in encoded for fact in facts_of(source)}
        self.prefixes = {fact[:i] for fact in self.known for i in range(1, len(fact) + 1)}
        self.quotes = b"\n".join([*encoded, *(text.encode("utf-8", "replace") for text in quotable)])
        self.fields = {label.encode(): tuple(v.encode() for v in values) for label, values in (fields or {}).items()}
        self.start = start.encode()
        self.stop_ids = frozenset(stop_ids)
        self.greedy = greedy
        self.data = b""  # the reply so far (its tail)
        self.length = 0  # bytes of the whole reply so far
        self.run_start = 0  # where the fact-like run at the end of `data` begins (the same for every candidate)
        self.quote_at: int | None = None  # where in `data` the open quote's text begins; None outside quotes
        self.filled: set[bytes] = set()  # the fields whose line is written: each comes once
        self.masked_steps = 0  # steps where the model's first choice was refused
        self.stuck_steps = 0  # steps where nothing was acceptable

    @classmethod
    def for_tokenizer(cls, tokenizer: Tokenizer, sources: Iterable[str], stop_ids: Iterable[int], *,
                      greedy: bool = True, quotable: Iterable[str] = (), fields: Mapping[str, Iterable[str]] | None = None,
                      start: str = "") -> FactGuard:  # fmt: skip
        """A guard over a bundle's tokenizer (tokens decoded one at a time, as bytes)."""
        return cls(lambda i: tokenizer.decode_bytes([i]), sources, stop_ids, greedy=greedy, quotable=quotable,
                   fields=fields, start=start)  # fmt: skip

    def acceptable(self, token_id: int) -> bool:
        """Would the reply, with this token next, say only what its sources say (and be on the way to it)?"""
        if token_id in self.stop_ids:  # the reply ends: everything in it must be complete
            line = self.data[self.data.rfind(b"\n") + 1 :]
            return (
                self.length >= len(self.start)
                and self.quote_at is None
                and self._field_ok(line, complete=True)
                and all(f in self.known for f in facts_of(self.data[self.run_start :]))
            )
        piece = self.token_bytes(token_id)
        new = self.data + piece
        if self.length < len(self.start) and not self._starts_well(new):
            return False
        return self._quotes_ok(new) and self._fields_ok(new) and self._facts_ok(new) and self._no_loop(new)

    def _starts_well(self, new: bytes) -> bool:
        return self.start.startswith(new) or new.startswith(self.start)  # `data` is the whole reply this early

    def _walk_quotes(self, new: bytes) -> tuple[list[bytes], int | None]:
        """The texts of the quotes the token closes, and where the text of the quote left open begins."""
        at, closed = self.quote_at, []
        i = new.find(QUOTE, len(self.data))
        while i >= 0:
            if at is None:
                at = i + 1
            else:
                closed.append(new[at:i])
                at = None
            i = new.find(QUOTE, i + 1)
        return closed, at

    def _quotes_ok(self, new: bytes) -> bool:
        """Every quote the token closes, and the one it leaves open, is text of one line of the sources."""
        closed, at = self._walk_quotes(new)
        if any(not text or text not in self.quotes or b"\n" in text for text in closed):
            return False
        return at is None or (new[at:] in self.quotes and b"\n" not in new[at:])

    def _fields_ok(self, new: bytes) -> bool:
        if not self.fields:
            return True
        lines = new[self.data.rfind(b"\n") + 1 :].split(b"\n")  # the lines this token touches
        return all(self._field_ok(line, complete=i < len(lines) - 1) for i, line in enumerate(lines))

    def _field_ok(self, line: bytes, *, complete: bool) -> bool:
        """A line that opens in bold is a field with one of its values (or, unfinished, on the way to one)."""
        if not line or not line.startswith(FIELD_OPENS[: len(line)]):
            return True  # a blank line, the start of one, or one that does not open in bold
        for label, values in self.fields.items():
            if not values or label in self.filled:
                continue  # nothing the digest supports, or written already: the field cannot be written (again)
            if label.startswith(line) and not complete:
                return True
            if not line.startswith(label):
                continue
            rest = line[len(label) :].removeprefix(b" ")
            for value in values:
                after = rest[len(value) :]
                ends = after == b"" or after.startswith(VALUE_GOES_ON) or (after == b" " and not complete)
                if (rest.startswith(value) and ends) or (not complete and value.startswith(rest)):
                    return True
        return False

    def _no_loop(self, new: bytes) -> bool:
        """The reply does not end in one text repeated LOOP_REPEATS times, unless the sources repeat it so."""
        for size in range(1, min(LOOP_UNIT, len(new) // LOOP_REPEATS) + 1):
            run = new[-size:] * LOOP_REPEATS
            if new.endswith(run) and run not in self.quotes:
                return False
        return True

    def _facts_ok(self, new: bytes) -> bool:
        run_start = self.run_start
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
        if token_id in self.stop_ids:
            return
        piece = self.token_bytes(token_id)
        new = self.data + piece
        _, at = self._walk_quotes(new)
        for line in new[self.data.rfind(b"\n") + 1 :].split(b"\n")[:-1]:  # the lines this token completes
            self.filled.update(label for label in self.fields if line.startswith(label))
        cut = max(0, len(new) - KEEP_BYTES)
        self.data, self.length = new[cut:], self.length + len(piece)
        self.quote_at = None if at is None else max(0, at - cut)
        self.run_start = len(self.data) - len(RUN.search(self.data).group(0))  # type: ignore[union-attr]
