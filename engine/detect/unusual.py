"""Unusual text: a general log language model's surprise at a template, with no history from the file.

LogGPT scores a log key against the keys before it, which needs a long history of the same system. Here a
small GPT trained on the log text of many systems (`train/linelm.py`) reads the text of one template and says
how unlikely its tokens are, so a 20-line paste or a system it never saw gets a score too. A raw surprisal
says as much about the system (unfamiliar words) as about the line, so `calibrate` turns it into a robust
z-score against the file's own templates, each template weighed once: an unfamiliar but routine system
scores near zero, the one odd template in it stands out.

Each sequence is `<|endoftext|> LEVEL text <|endoftext|>`, LEVEL one of the tags in `LEVEL_TAGS` (the model
was trained with the tag of the line's level, and with `<|any|>` in its place on a share of the lines).
Scored under `<|info|>`, a token's surprisal is how unexpected it is in a normal line; `TextScore.contrast`
is how much likelier the text is as an error than as a normal line (log P(text | error) − log P(text | info)),
which cancels most of what is merely unfamiliar. `calibrate` ranks by the contrast (`score_of`), chosen by
measurement on BGL (held out of training) and planted synthetic logs (tests/benchmarks/bench_unusual.py,
docs/benchmarks.md); the words it reports are then the most error-like ones.

What this leaves out: mining, the file's lines and how the evidence is weighed (the detection pipeline's).
The only file I/O is `load_line_lm`, at the edge.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import torch

from engine.detect import defaults
from engine.errors import BundleError
from engine.lm.bundle import build_model, load_state, load_tokenizer, read_config
from engine.lm.devices import Placement
from engine.lm.model import GPT
from engine.lm.tokenizer import ENDOFTEXT, Tokenizer

KIND = "linelm"  # the bundle kind (engine.lm.bundle.KINDS)
ANY, INFO, WARN, ERROR = "<|any|>", "<|info|>", "<|warn|>", "<|error|>"
LEVEL_TAGS = (ANY, INFO, WARN, ERROR)  # special tokens after <|endoftext|>, in this order
# Canonical levels (engine.logs.formats.record.LEVELS) → the tag a line of that level is trained with.
TAG_OF_LEVEL = {"TRACE": INFO, "DEBUG": INFO, "INFO": INFO, "NOTICE": INFO, "WARN": WARN, "ERROR": ERROR,
                "CRITICAL": ERROR}  # fmt: skip
PLACEHOLDER = re.compile(r"<(?:\*|[A-Z0-9]+)>|[^\w]")  # a word made only of these (<NUM>, <*>) is never a surprise
WORDS = 3  # words (or spans of adjacent words) reported per text
MAD_FLOOR = 0.15  # nats: a file whose templates all score alike gives no z above (x − median) / this
MAD_SCALE = 1.4826  # MAD → standard deviation of a normal distribution

K = TypeVar("K", bound=Hashable)


def tag_of(level: str | None) -> str:
    """The tag a line of this canonical level (None: unknown, taken as normal) is read with."""
    return TAG_OF_LEVEL.get(level or "INFO", INFO)


def special_tokens(first_id: int) -> dict[str, int]:
    """<|endoftext|> and the level tags, numbered from `first_id` (the BPE's size)."""
    return {name: first_id + i for i, name in enumerate((ENDOFTEXT, *LEVEL_TAGS))}


def encode_line(tokenizer: Tokenizer, text: str, tag: str, block_size: int) -> list[int]:
    """`<|endoftext|> tag text <|endoftext|>` as ids; text past the context is cut (its end token kept)."""
    eot = tokenizer.special(ENDOFTEXT)
    body = tokenizer.encode(text)[: block_size - 3]
    return [eot, tokenizer.special(tag), *body, eot]


@dataclass(frozen=True)
class TextScore:
    """How surprised the model is by one text (nats; one surprisal per BPE token, the end token last)."""

    text: str
    tokens: tuple[str, ...]  # the text's BPE pieces, decoded (the end token is not among them)
    surprisals: tuple[float, ...]  # −log P(token | tag, before), one per piece, then the end token
    total: float  # their sum: −log P(text | tag)
    mean: float  # total / len(surprisals)
    contrast: float | None  # log P(text | error) − log P(text | info) in nats per token; None unless asked
    words: tuple[str, ...]  # the spans that surprised it most, most surprising first, each a substring of text
    contrasts: tuple[float, ...] | None = None  # per piece (and the end token): log P(·|error) − log P(·|info)
    error_words: tuple[str, ...] = ()  # the spans that read most like an error (by `contrasts`), as `words`


@dataclass(frozen=True)
class Unusual:
    """A template's surprise against the other templates of its file."""

    key: Hashable  # the template's key, as given to `calibrate`
    score: float  # the calibrated quantity (see `score_of`)
    z: float  # robust z-score of `score` among the file's templates
    words: tuple[str, ...]
    detail: str  # "unusual text (z=3.1: 'Bad page state')"


def score_of(score: TextScore) -> float:
    """The one number `calibrate` ranks by: the error contrast (nats per token) when it was computed, else the
    surprisal under the tag. On BGL, a system held out of training, plain surprisal ranks alerts *below*
    routine lines (AUC 0.40: the unfamiliar routine text surprises it more) while the contrast gives 0.94;
    see docs/benchmarks.md, "Template surprisal (no history)"."""
    return score.contrast if score.contrast is not None else score.mean


def words_of(score: TextScore) -> tuple[str, ...]:
    """The words that explain `score_of`: the most error-like with a contrast, else the most surprising."""
    return score.error_words if score.contrast is not None else score.words


def calibrate(scores: Mapping[K, TextScore]) -> dict[K, Unusual]:
    """Each template's robust z-score (median, MAD) against the file's templates, every template once."""
    if not scores:
        return {}
    values = {key: score_of(s) for key, s in scores.items()}
    median = statistics.median(values.values())
    mad = statistics.median(abs(v - median) for v in values.values())
    spread = max(MAD_SCALE * mad, MAD_FLOOR)
    found: dict[K, Unusual] = {}
    for key, s in scores.items():
        z = (values[key] - median) / spread
        words = words_of(s)
        shown = ", ".join(repr(w) for w in words[:2])
        detail = f"unusual text (z={z:.1f}: {shown})" if shown else f"unusual text (z={z:.1f})"
        found[key] = Unusual(key, values[key], z, words, detail)
    return found


def surprising_words(pieces: Sequence[str], surprisals: Sequence[float], limit: int = WORDS) -> tuple[str, ...]:
    """The `limit` words whose pieces add up to the most surprisal (any per-token score: the error contrast
    too), adjacent ones merged into one span; words that add nothing (≤ 0) are not reported.

    A word starts at a piece that begins with whitespace (the GPT-2 split puts the space in front); a word
    made only of placeholder characters (`<NUM>`, `<*>`) is passed over.
    """
    words: list[tuple[int, int, float]] = []  # (start char, end char, surprisal), spaces excluded
    at, carried = 0, 0.0
    for piece, surprisal in zip(pieces, surprisals, strict=False):
        if not piece:  # the first bytes of a character: counted with the piece that completes it
            carried += surprisal
            continue
        s, carried = surprisal + carried, 0.0
        stripped = piece.lstrip()
        start = at + len(piece) - len(stripped)
        if words and stripped and start == at and words[-1][1] == at:
            first, _, total = words[-1]
            words[-1] = (first, at + len(piece), total + s)  # continues the word before
        elif stripped:
            words.append((start, at + len(piece), s))
        at += len(piece)
    text = "".join(pieces)
    real = [w for w in words if w[2] > 0 and PLACEHOLDER.sub("", text[w[0] : w[1]])]  # ones that pushed the score up
    chosen = sorted(sorted(real, key=lambda w: -w[2])[:limit])  # back in text order
    spans: list[tuple[int, int, float]] = []
    for start, end, s in chosen:
        if spans and text[spans[-1][1] : start].isspace():
            first, _, total = spans[-1]
            spans[-1] = (first, end, total + s)
        else:
            spans.append((start, end, s))
    spans.sort(key=lambda w: -w[2])
    return tuple(text[a:b].strip() for a, b, _ in spans if text[a:b].strip())


class LineLM:
    """A loaded line model: texts in, `TextScore`s out, in padded batches (one forward pass each)."""

    def __init__(self, model: GPT, tokenizer: Tokenizer, *, batch_size: int = 64) -> None:
        missing = [t for t in (ENDOFTEXT, *LEVEL_TAGS) if t not in tokenizer.special_tokens]
        if missing:
            raise BundleError(f"the line model's tokenizer lacks {', '.join(missing)}", "re-create the bundle")
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.batch_size = batch_size

    @property
    def block_size(self) -> int:
        return self.model.config.block_size

    def score(self, texts: Sequence[str], *, tag: str = INFO, contrast: bool = True) -> list[TextScore]:
        """Each text's surprisal under `tag`; with `contrast`, also its error-vs-info log-likelihood ratio."""
        ids = [encode_line(self.tokenizer, t, tag, self.block_size) for t in texts]
        rows = list(ids)
        if contrast:  # the same texts as errors (and as normal lines): in the same batches, one pass each
            rows += [encode_line(self.tokenizer, t, ERROR, self.block_size) for t in texts]
            if tag != INFO:
                rows += [encode_line(self.tokenizer, t, INFO, self.block_size) for t in texts]
        every = self._surprisals(rows)
        n = len(texts)
        nll = every[:n]
        other: list[list[float]] = []
        if contrast:
            error_nll, info_nll = every[n : 2 * n], (nll if tag == INFO else every[2 * n :])
            other = [[i - e for i, e in zip(a, b, strict=True)] for a, b in zip(info_nll, error_nll, strict=True)]
        found = []
        for i, (text, row, surprisals) in enumerate(zip(texts, ids, nll, strict=True)):
            decoder = self.tokenizer.decoder()  # a character split over two tokens belongs to the second
            pieces = tuple(decoder.feed(t) for t in row[2:-1])
            total = sum(surprisals)
            words = surprising_words(pieces, surprisals[:-1])
            if contrast:
                ratio, per_token = sum(other[i]) / len(other[i]), tuple(other[i])
                error_words = surprising_words(pieces, per_token[:-1])
            else:
                ratio, per_token, error_words = None, None, ()
            found.append(
                TextScore(
                    text,
                    pieces,
                    tuple(surprisals),
                    total,
                    total / len(surprisals),
                    ratio,
                    words,
                    per_token,
                    error_words,
                )
            )
        return found

    @torch.inference_mode()
    def _surprisals(self, rows: Sequence[list[int]]) -> list[list[float]]:
        """−log P of every id after the first two (the tag is given, not predicted), per row.

        Rows are sorted by length and batched; a batch is right-padded with the end token, which a causal
        model cannot see from earlier positions, so padding changes nothing that is read back.
        """
        device = self.model.transformer.wte.weight.device
        order = sorted(range(len(rows)), key=lambda i: len(rows[i]))
        found: list[list[float]] = [[] for _ in rows]
        pad = self.tokenizer.special(ENDOFTEXT)
        for at in range(0, len(order), self.batch_size):
            batch = order[at : at + self.batch_size]
            width = max(len(rows[i]) for i in batch)
            idx = torch.full((len(batch), width), pad, dtype=torch.long)
            for b, i in enumerate(batch):
                idx[b, : len(rows[i])] = torch.tensor(rows[i])
            idx = idx.to(device)
            lengths = torch.tensor([len(rows[i]) - 2 for i in batch])  # scored ids per row
            keep = torch.arange(width - 2)[None, :] < lengths[:, None]  # (B, T-2): not padding
            hidden = self.model.hidden(idx[:, :-1])[:, 1:]  # states that predict ids 2.. (B, T-2, C)
            logits = self.model.lm_head(hidden[keep.to(device)]).float()  # the head on real positions only (N, V)
            targets = idx[:, 2:][keep.to(device)]  # (N,)
            nll = (logits.logsumexp(-1) - logits.gather(-1, targets[:, None]).squeeze(-1)).cpu()  # (N,)
            for i, part in zip(batch, nll.split(lengths.tolist()), strict=True):
                found[i] = part.tolist()
        return found


DEFAULT_LINE_MODEL = defaults.DEFAULT_LINE_MODEL  # the bundled line model (weights/logpt-lines)


def find_line_lm(name_or_path: str = DEFAULT_LINE_MODEL) -> LineLM:
    """The line model of a bundle given by name (searched like every bundle) or folder; BundleError if none."""
    from engine.lm.registry import find_bundle  # noqa: PLC0415 - the registry reads folders: the edge's work

    return load_line_lm(find_bundle(name_or_path, kind=KIND))


def load_line_lm(folder: Path, placement: Placement | None = None) -> LineLM:
    """The line model of a bundle folder (kind "linelm"); safetensors only, on the CPU in fp32 by default."""
    config = read_config(folder)
    if config.kind != KIND:
        raise BundleError(f"{folder} is a {config.kind} bundle, not a line model", "pass a linelm bundle")
    placement = placement or Placement(torch.device("cpu"), torch.float32)
    tokenizer = load_tokenizer(folder, config)
    model = build_model(config.model, load_state(folder, config.model), placement)
    return LineLM(model, tokenizer)
