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

One pass holds every session's step, its inputs packed row after row with no padding: the linear layers,
GELU and layer norms run over real inputs only (the last layer's MLP over the scored ones). Rows that start
a window run plain causal attention (the fast kernel, no mask), runs of rows of one length at a time; rows
that continue a slot write their new keys and values into it and read it, in groups of like shape, so a
row of one key beside a row of forty, or a short session beside a long one, pads to at most twice its need.

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
from engine.detect.vocab import BOS
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
        whole, bounds = self._scores(steps)
        flags = whole.flags(self.detector.topk, len(self.detector.vocab))  # the rule over every step's keys at once
        found = []
        for step, (lo, hi) in zip(steps, bounds, strict=True):
            at = flags[lo:hi].nonzero()[0].tolist()
            verdicts = self.detector._verdicts(step.keys, part(whole, lo, hi), at, flags[lo:hi]) if at else []  # noqa: SLF001 - the full path's
            found.append(dict(zip(at, verdicts, strict=True)))
        return found

    def score(self, steps: Sequence[Step]) -> list[SequenceScores]:
        """Per step: the scores of its keys (as `score_sequences` gives them for those positions)."""
        whole, bounds = self._scores(steps)
        return [part(whole, lo, hi) for lo, hi in bounds]

    def _scores(self, steps: Sequence[Step]) -> tuple[SequenceScores, list[tuple[int, int]]]:
        """The scores of every step's keys, one step after another, and where each step's are."""
        assert len({step.name for step in steps}) == len(steps), "one step per session"
        segments = [seg for s, step in enumerate(steps) for seg in self._segments(s, step)]
        ends = np.cumsum([len(step.keys) for step in steps]).tolist()
        bounds = [(end - len(step.keys), end) for step, end in zip(steps, ends, strict=True)]
        if not segments:
            return SequenceScores(*(np.zeros(0, dtype=np.int64),) * 2, *(np.zeros(0, dtype=np.float32),) * 2,
                                  np.zeros((0, N_EXPECTED), dtype=np.int64)), bounds  # fmt: skip
        return self._run(steps, segments), bounds

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
    def _run(self, steps: Sequence[Step], segments: list[Segment]) -> SequenceScores:
        """Run every segment in one pass; store each session's last window; the scores of every step's keys."""
        known = [self._known(step) for step in steps]
        plan, at = self._plan(steps, segments, known)
        scored: list[int] = []  # the packed inputs scored, step after step (a step's segments are in order)
        targets: list[int] = []  # the keys they predict
        for r, g in enumerate(segments):
            offset, ids = known[g.step]
            lo = at[r] + g.scored - g.first
            scored.extend(range(lo, lo + g.end - g.scored))
            targets.extend(ids[g.scored - offset : g.end - offset])  # input p predicts key p
        device = self.pool_k.device
        out = torch.tensor(scored, device=device)
        h, keys, values = extend(self.model, plan, self.pool_k, self.pool_v, out)  # h: (len(scored), C)
        self._store(steps, segments, at, keys, values)
        return self._score(h, torch.tensor(targets, device=device))

    def _known(self, step: Step) -> tuple[int, list[int]]:
        """The ids of the step's keys and of the context before them, and the count of keys before those."""
        keys = step.context[len(step.context) - min(step.count, len(step.context)) :] + step.keys
        return step.count + len(step.keys) - len(keys), self.detector.vocab.encode(keys, complete=False)[1:]

    def _plan(self, steps: Sequence[Step], segments: list[Segment],
              known: list[tuple[int, list[int]]]) -> tuple[Plan, list[int]]:  # fmt: skip
        """The pass's layout and each segment's first packed input: rows without a past first, longest first
        (runs of one length), then the rows that continue a slot."""
        order = sorted(range(len(segments)), key=lambda r: (0, segments[r].first - segments[r].end, 0)
                       if segments[r].past is None else (1, *shape(segments[r])))  # fmt: skip
        tokens: list[int] = []
        places: list[int] = []
        at = [0] * len(segments)
        runs: list[list[int]] = []  # [first packed input, rows, length] of the rows without a past
        for r in order:
            g = segments[r]
            offset, ids = known[g.step]
            lo, hi = max(g.first - 1, 0) - offset, g.end - 1 - offset  # ids[lo:hi]: the keys of the inputs
            assert lo >= 0, f"the context of {steps[g.step].name!r} does not reach back to its window's start"
            at[r] = len(tokens)
            tokens.extend([BOS, *ids[lo:hi]] if g.first == 0 else ids[lo:hi])  # input 0 is BOS
            places.extend(range(g.first - g.start, g.end - g.start))
            if g.past is None and runs and runs[-1][2] == g.end - g.first:
                runs[-1][1] += 1
            elif g.past is None:
                runs.append([at[r], 1, g.end - g.first])
        device = self.pool_k.device
        cont = [segments[r] for r in order if segments[r].past is not None]
        first = at[order[len(order) - len(cont)]] if cont else len(tokens)
        return Plan(torch.tensor(tokens, device=device), torch.tensor(places, device=device),
                    [tuple(run) for run in runs], continued_groups(cont, first, device)), at  # fmt: skip

    def _store(self, steps: Sequence[Step], segments: list[Segment], at: list[int], keys: list[torch.Tensor],
               values: list[torch.Tensor]) -> None:  # fmt: skip
        """Keep each session's last segment (the window its next key continues) in a slot: a row that continues
        its own slot wrote its new inputs there in the pass, any other row writes its window from the start."""
        last = {g.step: row for row, g in enumerate(segments)}
        busy = {g.past.slot for g in segments if g.past is not None}  # read by this pass: kept for their rows
        packed: list[int] = []
        to_slot: list[int] = []
        to_place: list[int] = []
        for s, row in last.items():
            step, g = steps[s], segments[row]
            slot = self._slot_for(step.name, busy)
            if slot is None:
                continue
            assert g.past is None or g.past.slot == slot, "a row that continues a slot keeps it"
            n = step.count + len(step.keys)
            first_key = max(g.start - 1, 0)  # the key of the window's first input (input 0 is BOS)
            known = step.context + step.keys
            tail = known[max(0, len(known) - (n - first_key)) :]
            self.cached[step.name] = Cached(slot, g.start, n, tail)
            busy.add(slot)
            if g.past is not None:
                continue
            packed.extend(range(at[row], at[row] + g.end - g.first))
            to_slot.extend([slot] * (g.end - g.first))
            to_place.extend(range(g.first - g.start, g.end - g.start))
        if packed:
            device = self.pool_k.device
            rows, slots, places = (torch.tensor(v, device=device) for v in (packed, to_slot, to_place))
            for layer, (k, v) in enumerate(zip(keys, values, strict=True)):  # k, v: (N, nh, hs)
                self.pool_k[layer][slots, :, places] = k[rows]
                self.pool_v[layer][slots, :, places] = v[rows]

    def _score(self, h: torch.Tensor, targets: torch.Tensor) -> SequenceScores:
        """The scores of the scored inputs, from their final states `h` (N, C) and the keys they predict."""
        n_expected = min(N_EXPECTED, self.model.config.vocab_size)
        ranks, probs, mass, top = (t.cpu().numpy() for t in _score_positions(self.model, h, targets, n_expected))
        return SequenceScores(targets.cpu().numpy(), ranks, probs, mass, top)


def part(scores: SequenceScores, lo: int, hi: int) -> SequenceScores:
    """Positions lo..hi-1 of `scores` (views)."""
    return SequenceScores(scores.tokens[lo:hi], scores.ranks[lo:hi], scores.probs[lo:hi],
                          scores.mass_before[lo:hi], scores.expected[lo:hi])  # fmt: skip


@dataclass(frozen=True)
class Continued:
    """Rows of a pass that continue their cached windows, packed one after another from input `first`: row b
    has past[b] inputs in slot slots[b] and new[b] new ones, which the pass writes into the slot after them."""

    first: int
    slots: torch.Tensor  # (B,)
    into: tuple[torch.Tensor, torch.Tensor]  # (n,) each new input's slot and place there
    gather: torch.Tensor  # (B, T) the packed input of each row's t-th new input (past its last: the last)
    mask: torch.Tensor  # (B, 1, T, reach) the inputs of its slot each query sees: up to its own
    real: torch.Tensor  # (n,) the padded (B·T) places of the packed inputs, in order
    reach: int  # inputs read per row (the most of any row's past + new)

    @classmethod
    def of(cls, rows: list[Segment], first: int, device: torch.device) -> Continued:
        past = np.array([g.first - g.start for g in rows])  # (B,)
        new = np.array([g.end - g.first for g in rows])  # (B,)
        steps = np.arange(int(new.max()))  # (T,)
        last = np.minimum(steps[None, :], new[:, None] - 1)  # (B, T) each query's new input (past its row's: the last)
        gather = first + (np.cumsum(new) - new)[:, None] + last  # (B, T)
        reach = int((past + new).max())
        mask = np.arange(reach)[None, None, :] <= (past[:, None] + last)[:, :, None]  # (B, T, reach)
        real = steps[None, :] < new[:, None]  # (B, T)
        slots = np.array([g.past.slot for g in rows if g.past is not None])
        into = (np.broadcast_to(slots[:, None], real.shape)[real], (past[:, None] + steps[None, :])[real])
        flat = np.flatnonzero(real)  # the padded places of the packed inputs
        on = lambda a: torch.from_numpy(np.ascontiguousarray(a)).to(device)  # noqa: E731
        return cls(first, on(slots), (on(into[0]), on(into[1])), on(gather), on(mask[:, None]), on(flat), reach)


def continued_groups(rows: list[Segment], first: int, device: torch.device) -> list[Continued]:
    """The continuing rows (packed from `first` in the order of `shape`) in groups of one shape: a row's new
    inputs and its reads are padded to at most twice their number (a row of one key beside one of forty,
    short sessions beside long ones)."""
    groups: list[Continued] = []
    lo = 0
    for hi in range(1, len(rows) + 1):
        if hi == len(rows) or shape(rows[hi]) != shape(rows[lo]):
            groups.append(Continued.of(rows[lo:hi], first, device))
            first += sum(g.end - g.first for g in rows[lo:hi])
            lo = hi
    return groups


def shape(g: Segment) -> tuple[int, int]:
    """A continuing row's group: its new inputs (1, 2, 3-4, 5-8, ...) and its reads (up to 16, 17-32, ...)."""
    return (g.end - g.first - 1).bit_length(), max(4, (g.end - g.start - 1).bit_length())


@dataclass(frozen=True)
class Plan:
    """A pass's inputs packed row after row (no padding): token ids (N,), each input's place in its window
    (N,), the rows without a past as runs of equal length (first packed input, rows, length), and the rows
    that continue a cached window."""

    idx: torch.Tensor
    pos: torch.Tensor
    fresh: list[tuple[int, ...]]
    continued: list[Continued]


def extend(model: GPT, plan: Plan, pool_k: torch.Tensor, pool_v: torch.Tensor,
           out: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor]]:  # fmt: skip
    """The final hidden states (len(out), C) of the packed inputs `out` of the pass `plan`, and each layer's
    keys and values of every packed input, (N, nh, hs). Rows without a past run plain causal attention (runs
    of one length, no mask, no padding); rows that continue a window read its keys and values from their
    slots of the pools (L, S, nh, block, hs). Only attention sees rows: the rest runs over the N inputs (the
    last layer's projection and MLP over the scored ones)."""
    assert not model.training, "incremental scoring is for a model in eval mode"
    x = model.transformer.wte(plan.idx) + model.transformer.wpe(plan.pos)  # (N, C)
    N, C = x.shape
    keys, values = [], []
    for layer, block in enumerate(model.transformer.h):
        attn = block.attn
        nh = attn.n_head
        q, k, v = (t.view(N, nh, C // nh) for t in attn.c_attn(block.ln_1(x)).split(C, dim=1))  # (N, nh, hs)
        y = x.new_empty(N, nh, C // nh)  # (N, nh, hs) each input's attention
        for first, rows, length in plan.fresh:
            run = slice(first, first + rows * length)
            qr, kr, vr = (t[run].view(rows, length, nh, C // nh).transpose(1, 2) for t in (q, k, v))  # (R, nh, T, hs)
            y[run] = F.scaled_dot_product_attention(qr, kr, vr, is_causal=length > 1).transpose(1, 2).flatten(0, 1)
        for rows in plan.continued:
            y[rows.first : rows.first + len(rows.real)] = _continue(rows, q, k, v, pool_k[layer], pool_v[layer])
        y = y.view(N, C)
        if layer == len(model.transformer.h) - 1:  # past the last keys and values only the scored inputs matter
            x, y = x[out], y[out]
        x = x + attn.c_proj(y)
        x = x + block.mlp(block.ln_2(x))
        keys.append(k)
        values.append(v)
    return model.transformer.ln_f(x), keys, values


def _continue(rows: Continued, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, pool_k: torch.Tensor,
              pool_v: torch.Tensor) -> torch.Tensor:  # fmt: skip
    """Attention of continuing rows' new inputs (n, nh, hs): their keys and values are written into their slots
    after the cached ones (one layer's pools (S, nh, block, hs); the pass keeps them there), then each row reads
    its slot, padded to the group's reach under the rows' mask."""
    new = slice(rows.first, rows.first + len(rows.real))
    slots, places = rows.into
    pool_k[slots, :, places] = k[new]  # (n, nh, hs) into (slot, :, place)
    pool_v[slots, :, places] = v[new]
    kr = pool_k[:, :, : rows.reach].index_select(0, rows.slots)  # (B, nh, reach, hs)
    vr = pool_v[:, :, : rows.reach].index_select(0, rows.slots)
    qr = q[rows.gather].transpose(1, 2)  # (B, nh, T, hs)
    y = F.scaled_dot_product_attention(qr, kr, vr, attn_mask=rows.mask)  # (B, nh, T, hs)
    return y.transpose(1, 2).flatten(0, 1)[rows.real]
