"""Beyond one machine: log records through Redis Streams (`logpt ship` publishes them, `logpt serve` judges them)."""

from engine.errors import InputError, LogptError

MAX_RECORD_BYTES = 64 * 1024  # a record's text, in UTF-8 bytes: `ship` sends it cut to this, `serve` dead-letters longer
# Entries a consumer's read asks for at most (`logpt serve --batch`). 1,000 judged ~5% more records a second on the 1M
# backlog (a batch's round trips, script call and model pass paid once), but a read's size decides where a source's
# held first records are released (the batch that crosses HOLD_RECORDS is held whole): at 1,000 ZooKeeper_2k's
# stream gave 5 flags `logpt detect` does not (rarity judged at its 1,008th record, not its 1,496th), at 500 none
# (docs/benchmarks.md).
BATCH = 500
# A source's first records are held (engine.stream.hold), `logpt serve --hold-records` and `--hold-max-s`:
HOLD_RECORDS = 1_000  # a source's records before its entries are judged as they come (its first ones are held)
HOLD_MAX_S = 300.0  # a held record waits at most this long for its verdict
BACKOFF_S = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0)  # waits between reconnection attempts, the last one repeated


def tagged(stream: str) -> str:
    """The prefix of a stream's own keys (flags, dead letters, markers, contexts, counts, file positions): the
    stream's name as a Redis Cluster hash tag, `{logs}`, so that they and the stream itself (`logs` hashes as
    its tag `{logs}` does) sit in one slot, and a Lua step or a transaction touches one slot. A name that holds
    a tag already (`{app}logs`) is its own prefix."""
    start = stream.find("{")
    if start >= 0 and stream.find("}", start + 1) > start + 1:
        return stream
    return "{" + stream + "}"


def shares_slot(stream: str) -> bool:
    """Whether the stream's keys (`tagged`) hash to the stream's own Redis Cluster slot: not for a name with a `{`
    and then a `}` but no tag between (`a{}b` hashes whole, and no hash tag can hold its `}`)."""
    from redis.crc import key_slot  # noqa: PLC0415

    return key_slot(tagged(stream).encode()) == key_slot(stream.encode())


def check_slot(client: object, stream: str) -> None:
    """On a Redis Cluster, a one-line error for a stream whose keys cannot share its slot (`shares_slot`): every Lua
    step and transaction of `ship` and `serve` touches the stream and its keys at once."""
    if hasattr(client, "get_node_from_key") and not shares_slot(stream):  # RedisCluster
        raise InputError(f"on a Redis Cluster the stream {stream!r} cannot share one slot with its keys",
                         "pass a --stream without '{}' in its name, or one with a hash tag such as '{app}logs'")  # fmt: skip


def migrate(client: object, old: str, new: str) -> bool:
    """Rename `old` (a key of an earlier version, named `STREAM:…`) to `new` when only the old one exists, on a
    single Redis (in a cluster the two may sit in different slots: the old key is left, and said in the docs)."""
    import redis  # noqa: PLC0415

    try:
        return bool(client.exists(old) and not client.exists(new) and client.renamenx(old, new))  # type: ignore[attr-defined]
    except (redis.exceptions.ResponseError, redis.exceptions.RedisClusterException):  # in a cluster: two slots
        return False


def connect(url: str, *, needed_by: str = "shipping") -> object:
    """A Redis client for `url`, checked with a PING (a one-line error when it does not answer); a node of a
    Redis Cluster gives a cluster client (keys routed to their slots' nodes, MOVED followed). `needed_by` names
    what needs the `redis` package when it is missing."""
    try:
        import redis  # noqa: PLC0415 - only the stream commands and views need it
    except ImportError:
        raise LogptError(f"{needed_by} needs the `redis` package", "pip install 'logpt-tui[stream]'") from None
    try:
        client = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5)
        client.ping()
        if client.info("cluster").get("cluster_enabled"):
            client = redis.RedisCluster.from_url(url, socket_timeout=10, socket_connect_timeout=5)
    except ValueError as e:
        raise LogptError(f"not a Redis URL: {url!r} ({e})", "use redis://HOST:PORT/DB") from None
    except redis.exceptions.RedisError as e:
        raise LogptError(f"Redis at {url} does not answer: {e}", "start redis-server, or check the URL") from None
    return client


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
