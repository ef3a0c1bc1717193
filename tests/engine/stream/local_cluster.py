"""A real local Redis Cluster of three nodes on loopback ports (`redis-server --cluster-enabled yes`, joined by
`redis-cli --cluster create`, no replicas): what the `redis_cluster` fixture and tests/benchmarks/bench_stream.py
`--cluster` run on."""

from __future__ import annotations

import random
import socket
import subprocess
import time
from pathlib import Path

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


class LocalCluster:
    """Three nodes under `folder`; `url` names the first (a cluster client finds the others from it)."""

    def __init__(self, folder: Path) -> None:
        rng = random.Random()
        self.ports: list[int] = []
        while len(self.ports) < CLUSTER_NODES:
            port = free_port(rng)
            self.ports += [port] if port not in self.ports else []
        self.folder, self.processes = folder, list[subprocess.Popen]()
        self.url = f"redis://127.0.0.1:{self.ports[0]}/0"

    def start(self) -> None:
        import redis

        for port in self.ports:
            folder = self.folder / f"node-{port}"
            folder.mkdir()
            self.processes.append(subprocess.Popen(
                ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder), "--cluster-enabled",
                 "yes", "--cluster-config-file", "nodes.conf", "--save", "", "--appendonly", "no", "--protected-mode",
                 "yes"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))  # fmt: skip
        for port in self.ports:
            wait_for(lambda p=port: redis.Redis(port=p).ping())
        subprocess.run(["redis-cli", "--cluster", "create", *(f"127.0.0.1:{p}" for p in self.ports),
                        "--cluster-replicas", "0", "--cluster-yes"], check=True, capture_output=True, timeout=60)  # fmt: skip
        for port in self.ports:
            wait_for(lambda p=port: redis.Redis(port=p).info("cluster") and
                     redis.Redis(port=p).cluster("info")["cluster_state"] == "ok")  # fmt: skip

    def stop(self) -> None:
        for node in self.processes:
            node.terminate()
            node.wait(10)
        self.processes = []
