"""The real redis-server fixture (tests/redis_server.py), and a real local Redis Cluster of three nodes."""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.redis_server import redis_server  # noqa: F401 - a fixture

CLUSTER_NODES = 3


def free_port(rng: random.Random) -> int:
    """A port that is free, and so is its cluster bus port (port + 10000)."""
    while True:
        port = rng.randrange(20_000, 30_000)
        try:
            for p in (port, port + 10_000):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", p))
        except OSError:
            continue
        return port


@pytest.fixture
def redis_cluster(tmp_path: Path) -> Iterator[str]:
    """Three `redis-server --cluster-enabled yes` on loopback ports, joined by `redis-cli --cluster create`
    (no replicas); the URL of the first node."""
    if shutil.which("redis-server") is None or shutil.which("redis-cli") is None:
        pytest.skip("redis-server and redis-cli are not installed (apt-get install redis-server; .ci/run does)")
    redis = pytest.importorskip("redis")
    rng = random.Random()
    ports: list[int] = []
    while len(ports) < CLUSTER_NODES:
        port = free_port(rng)
        ports += [port] if port not in ports else []
    nodes = []
    try:
        for port in ports:
            folder = tmp_path / f"node-{port}"
            folder.mkdir()
            nodes.append(subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder),
                                           "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                                           "--save", "", "--appendonly", "no", "--protected-mode", "yes"],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))  # fmt: skip
        for port in ports:
            wait_for(lambda p=port: redis.Redis(port=p).ping())
        subprocess.run(["redis-cli", "--cluster", "create", *(f"127.0.0.1:{p}" for p in ports), "--cluster-replicas",
                        "0", "--cluster-yes"], check=True, capture_output=True, timeout=60)  # fmt: skip
        for port in ports:
            wait_for(lambda p=port: redis.Redis(port=p).info("cluster") and
                     redis.Redis(port=p).cluster("info")["cluster_state"] == "ok")  # fmt: skip
        yield f"redis://127.0.0.1:{ports[0]}/0"
    finally:
        for node in nodes:
            node.terminate()
            node.wait(10)


def wait_for(ready, timeout: float = 30) -> None:  # noqa: ANN001
    import redis

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if ready():
                return
        except redis.exceptions.RedisError:
            pass
        time.sleep(0.05)
    raise RuntimeError("the local Redis Cluster did not come up")
