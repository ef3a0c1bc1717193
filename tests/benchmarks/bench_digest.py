"""A chunk's digest with and without the knowledge base's needles (engine/analysis/knowledge/needles.py).

Every Loghub 2k sample in `--data` is cut into chunks of 100 lines (the analyst's chunk) and each chunk's
digest is built (`engine.analysis.digest.build_digest`) twice in the same process, alternating rounds:
once with every signature's pattern searched on every line it reads (the baseline: how the knowledge base
read a line before the needles), once with the needles' prefilter. The rendered digests must be equal;
the table gives the median seconds of each and their ratio.

    python -m tests.benchmarks.bench_digest [--data ../shared/datasets] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

import engine.analysis.knowledge as knowledge
from engine.analysis.digest import build_digest

CHUNK_LINES = 100


def every_pattern(self: knowledge.KnowledgeBase, text: str) -> list[knowledge.Signature]:  # noqa: ARG001
    return self._ordered


def chunks_of(data: Path) -> list[tuple[list[str], int]]:
    chunks = []
    for path in sorted((data / "loghub").glob("*/*_2k.log")):
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        chunks += [(lines[i : i + CHUNK_LINES], i + 1) for i in range(0, len(lines), CHUNK_LINES)]
    return chunks


def timed(chunks: list[tuple[list[str], int]]) -> tuple[float, list[str]]:
    start = time.perf_counter()
    rendered = [build_digest(lines, first_line=first).render() for lines, first in chunks]
    return time.perf_counter() - start, rendered


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/datasets"))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    chunks = chunks_of(args.data)
    if not chunks:
        raise SystemExit(f"no Loghub samples under {args.data / 'loghub'}")
    with_needles = knowledge.KnowledgeBase.candidates
    seconds: dict[str, list[float]] = {"every pattern": [], "needles": []}
    for _ in range(args.rounds):
        outputs = []
        for name, candidates in (("every pattern", every_pattern), ("needles", with_needles)):
            knowledge.KnowledgeBase.candidates = candidates  # type: ignore[method-assign]
            dt, rendered = timed(chunks)
            seconds[name].append(dt)
            outputs.append(rendered)
        knowledge.KnowledgeBase.candidates = with_needles  # type: ignore[method-assign]
        assert outputs[0] == outputs[1], "the needles changed a digest"
    base, ours = statistics.median(seconds["every pattern"]), statistics.median(seconds["needles"])
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{platform.machine()}, {os.cpu_count()} CPUs, load {load:.1f}; {len(knowledge.default_kb())} signatures")
    print(f"| {len(chunks)} chunks of {CHUNK_LINES} lines | every pattern searched (s) | with needles (s) | ratio |")
    print("|---|---:|---:|---:|")
    print(f"| build_digest, median of {args.rounds} | {base:.2f} | {ours:.2f} | {base / ours:.2f}× |")


if __name__ == "__main__":
    main()
