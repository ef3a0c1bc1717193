"""Beyond one machine: log records through Redis Streams (`logpt ship` publishes them, `logpt serve` judges them)."""

BACKOFF_S = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0)  # waits between reconnection attempts, the last one repeated


def backoff(attempt: int) -> float:
    """The wait before reconnection attempt `attempt` (0-based)."""
    return BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)]
