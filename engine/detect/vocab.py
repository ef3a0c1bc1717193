"""The detector's vocabulary: template keys (as strings) ↔ model token ids.

Ids 0..3 are reserved: PAD fills batches, BOS starts every sequence, UNK
stands for a key never seen in training (always flagged), EOS ends a session
that is complete, so a session that stops too early is unexpected too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

PAD, BOS, UNK, EOS = 0, 1, 2, 3
RESERVED = 4
END = "<end>"  # how EOS shows as a key in verdicts


class KeyVocab:
    def __init__(self, keys: Iterable[str]) -> None:
        self.keys: list[str] = []
        self._ids: dict[str, int] = {}
        for key in keys:
            if key not in self._ids:
                self._ids[key] = RESERVED + len(self.keys)
                self.keys.append(key)

    @classmethod
    def from_sequences(cls, sequences: Iterable[Sequence[str]]) -> KeyVocab:
        """Keys in order of first appearance, so the vocabulary is the same on every run."""
        return cls(key for seq in sequences for key in seq)

    def __len__(self) -> int:
        """Model vocabulary size, reserved ids included."""
        return RESERVED + len(self.keys)

    def __contains__(self, key: str) -> bool:
        return key in self._ids

    def encode(self, keys: Sequence[str], *, complete: bool = True) -> list[int]:
        """BOS, the ids of keys (unseen keys become UNK), and EOS when the session is complete."""
        get = self._ids.get
        ids = [BOS, *(get(k, UNK) for k in keys)]
        if complete:
            ids.append(EOS)
        return ids

    def key(self, token_id: int) -> str | None:
        if token_id == EOS:
            return END
        return self.keys[token_id - RESERVED] if token_id >= RESERVED else None
