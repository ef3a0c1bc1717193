"""Training the next-key detector by maximum likelihood on normal sessions.

Sessions are id sequences starting with BOS (see `engine.detect.vocab`).
Batches are padded; sequences longer than the context are cropped at random.
AdamW with warmup and cosine decay; the weights with the best validation loss
are kept. Progress goes to a callback.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from engine.detect.scoring import SequenceScores, TopK, score_sequences
from engine.detect.vocab import PAD, KeyVocab
from engine.lm.config import GPTConfig
from engine.lm.model import GPT


@dataclass(frozen=True)
class DetectorTrainConfig:
    n_layer: int = 2  # small: the vocabulary is tens to hundreds of keys
    n_head: int = 4
    n_embd: int = 64
    block_size: int = 128  # keys of context; longer sessions are scored in windows
    epochs: int = 20
    batch_size: int = 64
    lr: float = 3e-3
    weight_decay: float = 0.01
    warmup_steps: int = 50
    patience: int = 5  # epochs without validation improvement before stopping
    seed: int = 0


@dataclass(frozen=True)
class EpochReport:
    epoch: int
    train_loss: float
    val_loss: float
    best: bool
    steps: int  # optimizer steps so far
    total_steps: int


def new_model(vocab_size: int, config: DetectorTrainConfig) -> GPT:
    gpt = GPTConfig(
        block_size=config.block_size, vocab_size=vocab_size, n_layer=config.n_layer, n_head=config.n_head,
        n_embd=config.n_embd, activation="gelu",
    )  # fmt: skip
    model = GPT(gpt)
    model.init_weights(config.seed)
    return model


def make_batch(seqs: Sequence[Sequence[int]], block: int, rng: random.Random) -> tuple[torch.Tensor, torch.Tensor]:
    """(inputs, targets), padded with PAD; targets at padding are PAD and ignored by the loss."""
    crops = []
    for seq in seqs:
        if len(seq) > block + 1:
            start = rng.randrange(0, len(seq) - block)
            seq = seq[start : start + block + 1]
        crops.append(seq)
    width = max(len(s) for s in crops) - 1
    x = torch.full((len(crops), width), PAD, dtype=torch.long)
    y = torch.full((len(crops), width), PAD, dtype=torch.long)
    for i, seq in enumerate(crops):
        t = torch.tensor(seq)
        x[i, : len(seq) - 1] = t[:-1]
        y[i, : len(seq) - 1] = t[1:]
    return x, y


def split_long(seqs: Sequence[Sequence[int]], block: int) -> list[Sequence[int]]:
    """Sequences of at most block + 1 ids; longer ones become consecutive pieces sharing one id."""
    out: list[Sequence[int]] = []
    for seq in seqs:
        if len(seq) <= block + 1:
            out.append(seq)
            continue
        for start in range(0, len(seq) - 1, block):
            piece = seq[start : start + block + 1]
            if len(piece) >= 2:
                out.append(piece)
    return out


def sequence_loss(model: GPT, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    logits = model(x)  # (B, T, V)
    return F.cross_entropy(logits.flatten(0, 1), y.flatten(), ignore_index=PAD)


@torch.inference_mode()
def mean_loss(model: GPT, seqs: Sequence[Sequence[int]], block: int, batch_size: int = 256) -> float:
    model.eval()
    rng = random.Random(0)
    total = count = 0.0
    for b in range(0, len(seqs), batch_size):
        x, y = make_batch(seqs[b : b + batch_size], block, rng)
        n = int((y != PAD).sum())
        total += float(sequence_loss(model, x, y)) * n
        count += n
    return total / max(count, 1)


def train_detector(
    model: GPT,
    train: Sequence[Sequence[int]],
    val: Sequence[Sequence[int]],
    config: DetectorTrainConfig,
    on_epoch: Callable[[EpochReport], None] | None = None,
) -> float:
    """Train in place; the model ends with its best-validation weights. Returns that loss.

    Sessions longer than the context are cut into consecutive pieces first, so every key is
    trained on in every epoch.
    """
    train = split_long(train, config.block_size)
    rng = random.Random(config.seed)
    torch.manual_seed(config.seed)
    steps_per_epoch = math.ceil(len(train) / config.batch_size)
    total = steps_per_epoch * config.epochs
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay, betas=(0.9, 0.95))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda s: min(1.0, (s + 1) / config.warmup_steps) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / total))),
    )
    best_loss, best_state, stale, step = float("inf"), None, 0, 0
    order = list(range(len(train)))
    for epoch in range(1, config.epochs + 1):
        model.train()
        rng.shuffle(order)
        running = 0.0
        for b in range(0, len(order), config.batch_size):
            x, y = make_batch([train[i] for i in order[b : b + config.batch_size]], config.block_size, rng)
            loss = sequence_loss(model, x, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            running += loss.item()
            step += 1
        val_loss = mean_loss(model, val, config.block_size)
        improved = val_loss < best_loss - 1e-5
        if improved:
            best_loss, stale = val_loss, 0
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            stale += 1
        if on_epoch is not None:
            on_epoch(EpochReport(epoch, running / steps_per_epoch, val_loss, improved, step, total))
        if stale >= config.patience:
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return best_loss


RULE_WINDOW = 50  # keys: the false-positive rate of a rule is counted per window of this many keys


def fit_detector(
    sessions: Sequence[Sequence[str]],
    config: DetectorTrainConfig,
    *,
    complete: bool = True,
    target_fpr: float = 0.001,
    val_share: float = 0.1,
    on_epoch: Callable[[EpochReport], None] | None = None,
) -> tuple[GPT, KeyVocab, TopK]:
    """Train on a log's own sessions (assumed mostly normal) and choose the top-K rule on held-out ones.

    The last `val_share` of sessions (at least one) validate; the probability floor is set so that
    at most `target_fpr` of them would be flagged. The vocabulary holds the keys of every session:
    a key first seen in the validation part is normal history too, not an unseen template.
    """
    if len(sessions) < 2:
        raise ValueError("self-training needs at least two sessions")
    n_val = max(1, int(len(sessions) * val_share))
    train_keys, val_keys = sessions[:-n_val], sessions[-n_val:]
    vocab = KeyVocab.from_sequences(sessions)
    train = [vocab.encode(s, complete=complete) for s in train_keys]
    val = [vocab.encode(s, complete=complete) for s in val_keys]
    model = new_model(len(vocab), config)
    train_detector(model, train, val, config, on_epoch)
    return model, vocab, choose_topk(windowed(score_sequences(model, val), RULE_WINDOW), len(vocab), target_fpr, "prob")


def fit_streams(
    streams: Sequence[Sequence[str]],
    config: DetectorTrainConfig,
    *,
    window: int = RULE_WINDOW,
    target_fpr: float = 0.001,
    val_share: float = 0.1,
    on_epoch: Callable[[EpochReport], None] | None = None,
) -> tuple[GPT, KeyVocab, TopK]:
    """Train on long streams of keys (one per program, or a whole log) and choose the rule on their ends.

    The last `val_share` of every stream is held out and scored as one sequence, so every key has
    the context before it, exactly as streams are judged later; the floor is set so that at most
    `target_fpr` of the held-out windows of `window` keys would be flagged.
    """
    cuts = [len(s) - max(1, int(len(s) * val_share)) if len(s) >= 2 else len(s) for s in streams]
    vocab = KeyVocab.from_sequences(streams)
    train = [vocab.encode(s[:cut], complete=False) for s, cut in zip(streams, cuts, strict=True) if cut >= 1]
    val = [vocab.encode(s[cut:], complete=False) for s, cut in zip(streams, cuts, strict=True) if cut < len(s)]
    if not train or not val:
        raise ValueError("self-training on streams needs at least two keys in one of them")
    model = new_model(len(vocab), config)
    train_detector(model, train, split_long(val, config.block_size), config, on_epoch)
    return model, vocab, choose_topk(windowed(score_sequences(model, val), window), len(vocab), target_fpr, "prob")


def windowed(scores: Sequence[SequenceScores], window: int) -> list[SequenceScores]:
    """Each sequence's scores cut into windows of `window` positions (the unit a rule's FPR is counted in)."""
    out = []
    for s in scores:
        fields = (s.tokens, s.ranks, s.probs, s.mass_before, s.expected)
        out.extend(SequenceScores(*(f[i : i + window] for f in fields)) for i in range(0, len(s), window))
    return out


def flags(scores: Sequence[SequenceScores], topk: TopK, vocab_size: int) -> list[bool]:
    return [bool(session.flags(topk, vocab_size).any()) for session in scores]


def choose_topk(val_scores: Sequence[SequenceScores], vocab_size: int, target_fpr: float, kind: str = "prob") -> TopK:
    """The tightest rule of `kind` whose false-positive rate on validation normals is ≤ target_fpr.

    "count": the smallest K. "prob": the highest probability floor, i.e. just
    below the (1 − target_fpr) quantile of each normal session's least likely key.
    """
    if kind == "count":
        for k in range(1, vocab_size + 1):
            topk = TopK("count", float(k))
            if sum(flags(val_scores, topk, vocab_size)) / max(len(val_scores), 1) <= target_fpr:
                return topk
        return TopK("count", float(vocab_size))
    if kind != "prob":
        raise ValueError(f"cannot choose a {kind!r} rule")
    least = sorted(session.least_likely() for session in val_scores)
    allowed = min(int(target_fpr * len(least)), len(least) - 1)  # sessions that may fall below the floor
    return TopK("prob", max(least[allowed] * 0.999, 1e-12))
