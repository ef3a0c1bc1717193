"""The real redis-server fixture (tests/redis_server.py), and a real local Redis Cluster of three nodes."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.engine.stream.local_cluster import LocalCluster
from tests.redis_server import redis_server  # noqa: F401 - a fixture


@pytest.fixture
def redis_cluster(tmp_path: Path) -> Iterator[str]:
    """Three `redis-server --cluster-enabled yes` on loopback ports, joined by `redis-cli --cluster create`
    (no replicas); the URL of the first node."""
    if shutil.which("redis-server") is None or shutil.which("redis-cli") is None:
        pytest.skip("redis-server and redis-cli are not installed (apt-get install redis-server; .ci/run does)")
    pytest.importorskip("redis")
    cluster = LocalCluster(tmp_path)
    try:
        cluster.start()
        yield cluster.url
    finally:
        cluster.stop()
