"""Incremental scoring of sessions that grow a few keys at a time (`logpt serve`): each key costs one step
through the model, its session's context kept as attention keys and values, as the KV cache keeps a prompt
for generation.

The scores are those of the full path (`engine.detect.scoring.score_sequences` over the whole session):
key p is predicted from the inputs of the window that owns it, BOS and the keys before it, where windows of
the model's context start every half context (`scoring.windows`) and a key always sees at least half a
context. A session scored whole ends in a last window placed against its end; a session that never ends
has no such window, so its keys are all scored by the regular windows. Scoring a session whose length is a
window's end (block + k·block//2 keys) whole gives the same scores for every key (tests compare them, key
by key, with this path split into every kind of step).

Each cached session holds one slot of a preallocated pool of keys and values, (layer, slot, head, block,
head size), least recently used slots given to new sessions when the pool is full. A slot is used only if
it matches what the caller says the session holds now (its count of keys and its last keys): a session
another consumer continued, or a step that was never applied, is scored again from its keys, never from a
stale cache. Crossing into the next window costs one pass over its first half (the keys it shares with
the window before), so a key costs about two model positions, however long its session has grown.

What it leaves out: sessions' ends (EOS is never scored: a stream's session does not end) and the
vocabulary's text; the caller names sessions and keeps their keys (engine.stream.serve keeps them in Redis).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from engine.detect.detector import Detector, Verdict
from engine.detect.scoring import SequenceScores, _score_positions
from engine.detect.vocab import BOS, PAD
from engine.lm.model import GPT

POOL_BYTES = 64 * 1024 * 1024  # keys and values kept for sessions (a detector of 2 layers × 64 × 128: 512 sessions)
MAX_SLOTS = 65_536  # sessions cached at most, however small the model
N_EXPECTED = 3  # the most expected keys named in a verdict, as the full path names them


def window_start(position: int, block: int) -> int:
    """The first input of the regular window (`scoring.windows`) that scores `position` (input 0 is BOS)."""
    if position < block:
        return 0
    stride = block // 2
    return ((position - block) // stride + 1) * stride


@dataclass(frozen=True)
class Step:
    """A session's new keys: `count` keys came before them, the last of which are `context` (at least the
    model's block of them, or all)."""

    name: str
    count: int
    context: tuple[str, ...]
    keys: tuple[str, ...]


@dataclass
class Cached:
    """A session's slot: the keys and values of inputs start..count-1 of its current window; `tail` is the
    keys those inputs were made of, and the last key (the next input), to check against the caller's."""

    slot: int
    start: int
    count: int
    tail: tuple[str, ...]


@dataclass
class Segment:
    """One row of a batched pass: inputs [first, end) of the window starting at `start`, after the cached
    ones of `past` (None: none), scoring positions [scored, end) of the step `step`."""

    step: int
    start: int
    first: int
    end: int
    scored: int
    past: Cached | None


class StreamScorer:
    """Scores steps of many sessions in one batched pass, each against its cached window."""

    def __init__(self, detector: Detector, pool_bytes: int = POOL_BYTES) -> None:
        self.detector, self.model = detector, detector.model.eval()
        config, weight = self.model.config, self.model.transformer.wte.weight
        self.block = config.block_size
        per_slot = 2 * config.n_layer * config.n_embd * self.block * weight.element_size()
        self.slots = max(1, min(MAX_SLOTS, pool_bytes // per_slot))
        shape = (config.n_layer, self.slots, config.n_head, self.block, config.head_size)  # (L, S, nh, block, hs)
        self.pool_k = torch.empty(shape, dtype=weight.dtype, device=weight.device)  # untouched pages cost nothing
        self.pool_v = torch.empty(shape, dtype=weight.dtype, device=weight.device)
        self.cached: OrderedDict[str, Cached] = OrderedDict()  # least recently used first
        self.free = list(range(self.slots - 1, -1, -1))
        self.clean = np.zeros(self.slots, dtype=bool)  # slots zeroed once: attention never reads a NaN of `empty`

    def advance(self, steps: Sequence[Step]) -> list[dict[int, Verdict]]:
        """Per step: the verdicts of its flagged keys, by index in `step.keys` (the top-K rule)."""
        found = []
        vocab, topk = self.detector.vocab, self.detector.topk
        for step, part in zip(steps, self.score(steps), strict=True):
            flags = part.flags(topk, len(vocab))
            at = [int(i) for i in flags.nonzero()[0]]
            verdicts = self.detector._verdicts(step.keys, part, at, flags)  # noqa: SLF001 - the full path's verdicts
            found.append(dict(zip(at, verdicts, strict=True)))
        return found

    def score(self, steps: Sequence[Step]) -> list[SequenceScores]:
        """Per step: the scores of its keys (as `score_sequences` gives them for those positions)."""
        if not steps:
            return []
        assert len({step.name for step in steps}) == len(steps), "one step per session"
        segments = [seg for s, step in enumerate(steps) for seg in self._segments(s, step)]
        return self._run(steps, segments)

    def forget(self) -> None:
        """Drop every cached session (the next steps are scored from their keys)."""
        self.cached.clear()
        self.free = list(range(self.slots - 1, -1, -1))  # slots stay clean: zeroed once, then only written

    # ---- planning ----

    def _segments(self, s: int, step: Step) -> list[Segment]:
        """The rows that score `step`'s keys: one per window its positions fall in; the first continues the
        session's cached window when the cache matches the step."""
        n, m = step.count, len(step.keys)
        cached = self.cached.get(step.name)
        if cached is not None and (cached.count != n or cached.start != window_start(n, self.block)
                                   or step.context[-len(cached.tail):] != cached.tail):  # fmt: skip
            self._release(step.name)
            cached = None
        found, p = [], n
        while p < n + m:
            start = window_start(p, self.block)
            end = min(n + m, start + self.block)  # the window's inputs, or the step's last
            if p == n and cached is not None:
                found.append(Segment(s, start, n, end, n, cached))
            else:
                found.append(Segment(s, start, start, end, p, None))
            p = end
        return found

    def _release(self, name: str) -> None:
        gone = self.cached.pop(name, None)
        if gone is not None:
            self.free.append(gone.slot)

    def _slot_for(self, name: str, busy: set[int]) -> int | None:
        """A slot for `name`'s new state: its own, a free one, or the least recently used one that no row of
        this pass reads (None when every slot is read by this pass: the session is not cached)."""
        old = self.cached.pop(name, None)
        if old is not None:
            return old.slot
        if self.free:
            slot = self.free.pop()
            if not self.clean[slot]:
                self.pool_k[:, slot].zero_()
                self.pool_v[:, slot].zero_()
                self.clean[slot] = True
            return slot
        for other, c in self.cached.items():
            if c.slot not in busy:
                del self.cached[other]
                return c.slot
        return None

    # ---- the pass ----

    @torch.inference_mode()
    def _run(self, steps: Sequence[Step], segments: list[Segment]) -> list[SequenceScores]:
        """Run every segment as one padded batch; store each session's last window; the scores per step."""
        device = self.pool_k.device
        inputs = [self._inputs(steps[g.step], g) for g in segments]
        past = torch.tensor([g.first - g.start for g in segments], device=device)  # (B,) cached inputs per row
        width = max(len(x) for x in inputs)
        idx = torch.full((len(segments), width), PAD, dtype=torch.long)
        for row, x in enumerate(inputs):
            idx[row, : len(x)] = torch.as_tensor(x)
        idx = idx.to(device)
        slots = torch.tensor([g.past.slot if g.past else 0 for g in segments], device=device)
        h, keys, values = extend(self.model, idx, past, self.pool_k, self.pool_v, slots)  # h: (B, T, C)
        self._store(steps, segments, keys, values)
        return self._score(steps, segments, h, idx)

    def _inputs(self, step: Step, g: Segment) -> list[int]:
        """The token ids of inputs [g.first, g.end) (input i is BOS for i = 0, else the key at i - 1)."""
        known = step.context[len(step.context) - min(step.count, len(step.context)) :] + step.keys
        offset = step.count + len(step.keys) - len(known)  # the count of keys before `known[0]`
        lo, hi = max(g.first - 1, 0) - offset, g.end - 1 - offset  # known[lo:hi]: the keys of the inputs
        assert lo >= 0, f"the context of {step.name!r} does not reach back to its window's start"
        ids = self.detector.vocab.encode(known[lo:hi], complete=False)[1:]
        return [BOS, *ids] if g.first == 0 else ids

    def _store(self, steps: Sequence[Step], segments: list[Segment], keys: list, values: list) -> None:
        """Keep each session's last segment (the window its next key continues) in a slot."""
        last = {g.step: row for row, g in enumerate(segments)}
        busy: set[int] = set()  # slots given in this pass (the rows' reads are done: any other slot may go)
        rows, slots = [], []
        for s, row in last.items():
            step, g = steps[s], segments[row]
            slot = self._slot_for(step.name, busy)
            if slot is None:
                continue
            n = step.count + len(step.keys)
            first_key = max(g.start - 1, 0)  # the key of the window's first input (input 0 is BOS)
            known = step.context + step.keys
            tail = known[max(0, len(known) - (n - first_key)) :]
            self.cached[step.name] = Cached(slot, g.start, n, tail)
            busy.add(slot)
            rows.append(row)
            slots.append(slot)
        if rows:
            at, to = torch.tensor(rows, device=self.pool_k.device), torch.tensor(slots, device=self.pool_k.device)
            span = min(keys[0].size(2), self.block)
            for layer, (k, v) in enumerate(zip(keys, values, strict=True)):
                self.pool_k[layer, to, :, :span] = k[at, :, :span]
                self.pool_v[layer, to, :, :span] = v[at, :, :span]

    def _score(self, steps: Sequence[Step], segments: list[Segment], h: torch.Tensor,
               idx: torch.Tensor) -> list[SequenceScores]:  # fmt: skip
        """Each step's scores, assembled from the rows' scored positions (targets: each input's next key)."""
        keep = torch.zeros(idx.shape, dtype=torch.bool)
        targets = torch.full(idx.shape, PAD, dtype=torch.long)
        for row, g in enumerate(segments):
            step = steps[g.step]
            lo, hi = g.scored - g.first, g.end - g.first
            keep[row, lo:hi] = True
            ids = self.detector.vocab.encode(step.keys[g.scored - step.count : g.end - step.count], complete=False)
            targets[row, lo:hi] = torch.as_tensor(ids[1:])
        keep, targets = keep.to(h.device), targets.to(h.device)
        n_expected = min(N_EXPECTED, self.model.config.vocab_size)
        ranks, probs, mass, top = (t.cpu().numpy() for t in _score_positions(self.model, h[keep], targets[keep],
                                                                            n_expected))  # fmt: skip
        tokens = targets[keep].cpu().numpy()
        parts: list[list[int]] = [[] for _ in steps]
        at = 0
        for g in segments:
            parts[g.step].extend(range(at, at + g.end - g.scored))
            at += g.end - g.scored
        found = []
        for rows in parts:
            r = np.asarray(rows, dtype=np.int64)
            found.append(SequenceScores(tokens[r], ranks[r], probs[r], mass[r], top[r]))
        return found


def extend(model: GPT, idx: torch.Tensor, past: torch.Tensor, pool_k: torch.Tensor, pool_v: torch.Tensor,
           slots: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor]]:  # fmt: skip
    """The final hidden states (B, T, C) of inputs `idx` (B, T), row b continuing the first past[b] inputs of
    its window, whose keys and values are in slot slots[b] of the pools (L, S, nh, block, hs); also each
    layer's keys and values of the rows' windows so far, (B, nh, past + T, hs) (beyond a row's own inputs:
    padding)."""
    assert not model.training, "incremental scoring is for a model in eval mode"
    B, T = idx.shape
    reach = int(past.max()) + T  # positions any row's attention covers
    steps = torch.arange(T, device=idx.device)
    pos = past[:, None] + steps[None, :]  # (B, T) each input's place in its window
    x = model.transformer.wte(idx) + model.transformer.wpe(pos.clamp(max=model.config.block_size - 1))  # (B, T, C)
    mask = torch.arange(reach, device=idx.device)[None, None, :] <= pos[:, :, None]  # (B, T, reach): causal
    rows = torch.arange(B, device=idx.device)[:, None].expand(B, T)
    held = min(int(past.max()), pool_k.size(3))
    cached = past > 0
    keys, values = [], []
    for layer, block in enumerate(model.transformer.h):
        attn = block.attn
        nh, C = attn.n_head, attn.n_embd
        q, k, v = attn.c_attn(block.ln_1(x)).split(C, dim=2)  # (B, T, C) each
        k_all = x.new_zeros(B, nh, reach, C // nh)  # (B, nh, reach, hs)
        v_all = x.new_zeros(B, nh, reach, C // nh)
        if held:  # rows without a past read nothing (their slot may be another session's)
            k_all[cached, :, :held] = pool_k[layer, slots[cached], :, :held]
            v_all[cached, :, :held] = pool_v[layer, slots[cached], :, :held]
        k_all[rows, :, pos] = k.view(B, T, nh, C // nh)  # row b's inputs after its past[b] cached ones
        v_all[rows, :, pos] = v.view(B, T, nh, C // nh)
        q = q.view(B, T, nh, C // nh).transpose(1, 2)  # (B, nh, T, hs)
        y = F.scaled_dot_product_attention(q, k_all, v_all, attn_mask=mask[:, None])  # (B, nh, T, hs)
        x = x + attn.c_proj(y.transpose(1, 2).reshape(B, T, C))
        x = x + block.mlp(block.ln_2(x))
        keys.append(k_all)
        values.append(v_all)
    return model.transformer.ln_f(x), keys, values
