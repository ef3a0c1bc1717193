"""The pretrained models in a stream (`logpt serve`), each against a source's templates so far: the sequence model
where no detector is given, and the line model's unusual text.

`logpt detect` judges the order of a file too short to self-train on with the pretrained sequence model
(engine.detect.textseq), whose candidates for each line are the file's templates, and reads every template's text
with the line model (engine.detect.unusual), calibrated as a robust z against the file's templates. A stream has a
source's templates so far: the keys of its counts in Redis (`{stream}:tally:SOURCE:n`, engine.stream.tally), which
every consumer shares, and the batch's. So here:

- `SourceTemplates` keeps each source's keys, read again from Redis only when its count of keys grew;
- `PretrainedSequence` scores each new key of a session once, in the window `logpt detect` scores it in (windows
  of the model's context every half context; never the last one placed against a session's end, which a stream
  does not have), against the source's templates so far;
- `SourceUnusual` scores each template's text once (per consumer) and calibrates a source's templates again when
  they grew; a z taken so says over how many templates.

What it leaves out: the keys (the consumer's), weighing (engine.detect.evidence) and holding (engine.stream.hold).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

import torch

from engine.detect.detector import Verdict
from engine.detect.incremental import Step, window_start
from engine.detect.textseq import EXPECTED, TextSeq, next_logits, template_vectors
from engine.detect.unusual import LineLM, TextScore, Unusual, calibrate
from engine.logs.templates.table import MINED

ROWS_AT_ONCE = 64  # windows one pass of the sequence model reads (their logits: rows × context × templates)
TEXTS_KEPT = 100_000  # template texts whose line-model scores and vectors a consumer keeps (then they are dropped)


def text_of(templates: Mapping[str, str]) -> Callable[[str], str]:
    """A key's template text: the bundle's, else a mined key's masked text (`~…`), else the key."""
    return lambda key: templates.get(key) or (key[len(MINED) :] if key.startswith(MINED) else key)


class SourceTemplates:
    """Each source's template keys so far: its counts' keys in Redis (read again when their number grew) and the
    batch's (`update`)."""

    def __init__(self, client: object, prefix: str) -> None:
        self.client, self.prefix = client, prefix  # `{stream}:tally:`
        self.stored: dict[str, dict[str, None]] = {}  # source → its keys in Redis when last read

    def update(self, batch: Mapping[str, set[str]], fields: Mapping[str, int]) -> dict[str, list[str]]:
        """Per source of the batch, its keys: Redis's (read again, in one round trip, only for the sources whose
        `fields`, the number of fields of their counts in Redis (engine.stream.tally.Counts.fields), grew) and the
        batch's."""
        sources = list(batch)
        stale = [s for s in sources if max(0, fields.get(s, 0) - 1) != len(self.stored.get(s, ()))]  # "": the source's
        if stale:
            pipe = self.client.pipeline(transaction=False)  # type: ignore[attr-defined]
            for source in stale:
                pipe.hkeys(f"{self.prefix}{source}:n")
            for source, keys in zip(stale, pipe.execute(), strict=True):
                self.stored[source] = dict.fromkeys(k.decode() for k in keys if k)
        return {s: list(dict.fromkeys([*self.stored.get(s, {}), *sorted(batch[s])])) for s in sources}


class PretrainedSequence:
    """The pretrained sequence model over sessions that grow a few keys at a time, each key scored once."""

    def __init__(self, sequence: TextSeq, text: Callable[[str], str]) -> None:
        self.sequence, self.text = sequence, text
        self.vectors: dict[str, torch.Tensor] = {}  # template text → its vector (C,)

    @property
    def block_size(self) -> int:
        return self.sequence.block_size

    def advance(self, steps: Sequence[Step], sources: Sequence[str],
                candidates: Mapping[str, Sequence[str]]) -> list[dict[int, Verdict]]:  # fmt: skip
        """Per step (its session's source in `sources`): the verdicts of its keys outside the expected set, by
        index in `step.keys`, each against the candidates of its source (the source's templates so far)."""
        block = self.block_size
        rows: dict[str, list[tuple[int, int, list[str], list[int]]]] = {}  # source → (step, window start, keys, new)
        for n, (step, source) in enumerate(zip(steps, sources, strict=True)):
            known, first = [*step.context, *step.keys], step.count - len(step.context)  # known[0] is key `first`
            windows: dict[int, list[int]] = {}
            for j in range(len(step.keys)):
                windows.setdefault(window_start(step.count + j, block), []).append(j)
            for start, new in windows.items():
                assert start >= first, f"window at {start}, context from {first}: keep {block} keys a session"
                rows.setdefault(source, []).append((n, start, known[start - first : step.count + new[-1] + 1 - first], new))
        found: list[dict[int, Verdict]] = [{} for _ in steps]
        for source, part in rows.items():
            for at in range(0, len(part), ROWS_AT_ONCE):
                self._score(part[at : at + ROWS_AT_ONCE], candidates[source], steps, found)
        return found

    @torch.inference_mode()
    def _score(self, rows: list[tuple[int, int, list[str], list[int]]], candidates: Sequence[str],
               steps: Sequence[Step], found: list[dict[int, Verdict]]) -> None:  # fmt: skip
        keys = list(dict.fromkeys([*candidates, *(k for _n, _s, window, _j in rows for k in window)]))
        index = {k: i for i, k in enumerate(keys)}
        vectors = self._vectors(keys)  # (N, C)
        targets = torch.zeros(len(rows), max(len(w) for _n, _s, w, _j in rows), dtype=torch.long)  # (B, T)
        for r, (_n, _s, window, _j) in enumerate(rows):
            targets[r, : len(window)] = torch.tensor([index[k] for k in window])
        seq = self.sequence
        logp = next_logits(seq.model, seq.tokenizer, vectors, targets.to(vectors.device)).float().cpu().log_softmax(-1)
        for r, (n, start, window, new) in enumerate(rows):  # logp (B, T, N): position i predicts window[i]
            for j in new:
                i = steps[n].count + j - start
                actual = logp[r, i, index[window[i]]]
                prob = float(actual.exp())
                if prob < seq.floor:
                    rank = int((logp[r, i] > actual).sum())
                    expected = tuple(keys[e] for e in logp[r, i].topk(min(EXPECTED, len(keys))).indices.tolist())
                    found[n][j] = Verdict(window[i], True, False, rank, prob, expected)

    def _vectors(self, keys: Sequence[str]) -> torch.Tensor:
        """The keys' template vectors (N, C), each text's computed once."""
        texts = [self.text(k) for k in keys]
        new = list(dict.fromkeys(t for t in texts if t not in self.vectors))
        if new:
            if len(self.vectors) + len(new) > TEXTS_KEPT:
                self.vectors.clear()
                new = list(dict.fromkeys(texts))
            seq = self.sequence
            self.vectors.update(zip(new, template_vectors(seq.model, seq.tokenizer, new), strict=True))
        return torch.stack([self.vectors[t] for t in texts])


def said(verdict: Verdict, templates: int) -> str:
    """A pretrained verdict's detail: its rank among the source's templates so far."""
    return f"rank {verdict.rank + 1} of the source's {templates:,} templates so far, p={verdict.prob:.2g}"


class SourceUnusual:
    """The line model's unusual text per source: each template's text scored once, calibrated against the source's
    templates (again only when they grew); only the templates at or above `z` are kept."""

    def __init__(self, line_lm: LineLM, text: Callable[[str], str], z: float) -> None:
        self.line_lm, self.text, self.z = line_lm, text, z
        self.scores: dict[str, TextScore] = {}  # template text → the line model's score
        self.calibrated: dict[str, tuple[tuple[int, bool], dict[str, Unusual]]] = {}  # source → ((templates, so far), unusual)

    def of(self, source: str, keys: Sequence[str], *, so_far: bool = True) -> dict[str, Unusual]:
        """The keys of `source` whose text is unusual (z ≥ `z`) against `keys`, its templates (so far)."""
        kept = self.calibrated.get(source)
        if kept is not None and kept[0] == (len(keys), so_far):
            return kept[1]
        texts = {k: self.text(k) for k in keys}
        new = list(dict.fromkeys(t for t in texts.values() if t not in self.scores))
        if new:
            if len(self.scores) + len(new) > TEXTS_KEPT:
                self.scores.clear()
                new = list(dict.fromkeys(texts.values()))
            self.scores.update(zip(new, self.line_lm.score(new), strict=True))
        where = f"over the source's {len(keys):,} templates{' so far' if so_far else ''}"
        found = {k: replace(u, detail=f"{u.detail} {where}")
                 for k, u in calibrate({k: self.scores[t] for k, t in texts.items()}).items() if u.z >= self.z}  # fmt: skip
        self.calibrated[source] = ((len(keys), so_far), found)
        return found
