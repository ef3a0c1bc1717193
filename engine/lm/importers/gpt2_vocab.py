"""GPT-2's `vocab.json` + `merges.txt` → tiktoken ranks and special tokens.

GPT-2 stores each token's bytes as printable characters through a fixed
byte→unicode table. Ranks are the vocabulary ids, which for GPT-2 (and any
tokenizer trained by Hugging Face's BPE trainer) grow with merge order, so
tiktoken's lowest-rank-first merging reproduces the merges list; a vocabulary
where they do not is refused rather than tokenized differently.
"""

from __future__ import annotations

from pathlib import Path

from engine.errors import CheckpointError, InputError
from engine.sidefiles import read_json, read_text


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte → printable character table."""
    printable = (
        list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    )
    chars = list(printable)
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    return dict(zip(printable, map(chr, chars), strict=True))


def load_gpt2_vocab(vocab_path: Path, merges_path: Path) -> tuple[dict[bytes, int], dict[str, int]]:
    """(ranks, special tokens) from a GPT-2 style vocab.json and merges.txt."""
    hint = "expected vocab.json and merges.txt"
    try:
        vocab: dict[str, int] = read_json(vocab_path, "vocabulary", hint)
        merge_lines = read_text(merges_path, "vocabulary", hint).splitlines()
    except InputError as e:
        raise CheckpointError(e.message, e.hint) from None
    if not isinstance(vocab, dict):
        raise CheckpointError(f"{vocab_path} is not a JSON object of tokens", hint)
    decoder = {c: b for b, c in bytes_to_unicode().items()}

    def to_bytes(token: str) -> bytes:
        return bytes(decoder[c] for c in token)

    ranks: dict[bytes, int] = {}
    for b, c in bytes_to_unicode().items():
        if c not in vocab:
            raise CheckpointError(
                f"vocab.json lacks the byte {b:#04x}", "only byte-level BPE vocabularies can be imported"
            )
        ranks[bytes([b])] = vocab[c]
    last = max(ranks.values())
    for number, line in enumerate(merge_lines, 1):
        if not line.strip() or line.startswith("#version"):
            continue
        parts = line.split(" ")
        if len(parts) != 2:
            raise CheckpointError(f"merges.txt:{number} is not a pair", "the merges file is corrupt")
        token = parts[0] + parts[1]
        if token not in vocab:
            raise CheckpointError(
                f"merges.txt:{number}: {token!r} is not in vocab.json", "the tokenizer files do not match"
            )
        rank = vocab[token]
        if rank <= last:
            raise CheckpointError(
                f"merges.txt:{number}: token id {rank} does not follow merge order",
                "this vocabulary cannot be converted to tiktoken ranks exactly",
            )
        try:
            ranks[to_bytes(token)] = last = rank
        except KeyError:
            raise CheckpointError(
                f"merges.txt:{number} has a character outside GPT-2's byte table", "not a byte-level BPE"
            ) from None
    specials = {token: i for token, i in vocab.items() if i not in set(ranks.values())}
    return ranks, specials
