"""Beyond one machine: log records through Redis Streams (`logpt ship` publishes them, `logpt serve` judges them)."""

from engine.errors import InputError

MAX_RECORD_BYTES = 64 * 1024  # a record's text, in UTF-8 bytes: `ship` sends it cut to this, `serve` dead-letters longer
BACKOFF_S = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0)  # waits between reconnection attempts, the last one repeated


def backoff(attempt: int) -> float:
    """The wait before reconnection attempt `attempt` (0-based)."""
    return BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)]


def cut_record(text: str) -> str:
    """`text` cut to MAX_RECORD_BYTES of UTF-8 (never inside a character)."""
    if len(text) * 4 <= MAX_RECORD_BYTES:
        return text
    return text.encode("utf-8", "replace")[:MAX_RECORD_BYTES].decode("utf-8", "ignore")


def wrong_type(error: Exception, key: str) -> InputError | None:
    """The one-line error for a Redis reply that says a key holds another type (WRONGTYPE), else None."""
    if "WRONGTYPE" not in str(error):
        return None
    return InputError(f"Redis key {key!r} holds another type of value than logpt keeps there",
                      "delete the key, or pass another --stream")  # fmt: skip
