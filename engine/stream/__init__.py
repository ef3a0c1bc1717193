"""Beyond one machine: log records through Redis Streams (`logpt ship` publishes them)."""
