"""Parse + mine + sessionise + score throughput, beside stock drain3, on a ≥ 1M-line mixed log.

The log is built from the Loghub samples: each system's 2,000 lines in turn,
over and over, with every digit re-drawn at random so lines are not exact
repeats. Stages on one core (torch and BLAS pinned to one thread):

- stock drain3: `drain3.TemplateMiner` (no persistence) with masks equivalent
  to logpt's, fed the same messages logpt mines (header already removed);
- logpt mining: format detection per system block + parse + `TemplateMiner.add`;
- logpt end to end: the above + sessions (windows of 50 keys) + GPT detector
  scoring, with a detector trained (untimed) for 2 epochs on the first 2,000
  windows: scoring is faster when the model expects what it sees, so an
  untrained model would understate it.

    python -m tests.benchmarks.bench_pipeline [--lines 1000000] [--data ../shared/datasets/loghub]
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
import tracemalloc
from pathlib import Path

import torch

from engine.detect import Detector
from engine.detect.fit import DetectorTrainConfig, fit_detector
from engine.logs.formats import detect_format, parse_lines
from engine.logs.sessions import SessionSpec, group_sessions
from engine.logs.templates import TemplateMiner
from engine.logs.templates.masks import MASKS

DEFAULT_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "loghub"


def build_log(data: Path, n_lines: int, seed: int = 0) -> list[list[str]]:
    """Blocks of lines, one system per block, digits re-drawn."""
    rng = random.Random(seed)
    systems = [p / f"{p.name}_2k.log" for p in sorted(data.iterdir()) if (p / f"{p.name}_2k.log").is_file()]
    samples = [s.read_text(encoding="utf-8", errors="replace").splitlines() for s in systems]
    digits = "0123456789"
    blocks, total = [], 0
    while total < n_lines:
        for lines in samples:
            block = ["".join(rng.choice(digits) if c.isdigit() else c for c in line) for line in lines]
            blocks.append(block[: n_lines - total])
            total += len(blocks[-1])
            if total >= n_lines:
                break
    return blocks


def stock_drain3(messages: list[str]) -> tuple[float, int]:
    from drain3 import TemplateMiner as StockMiner
    from drain3.masking import MaskingInstruction
    from drain3.template_miner_config import TemplateMinerConfig

    config = TemplateMinerConfig()  # built explicitly: never reads a drain3.ini
    config.masking_instructions = [MaskingInstruction(regex, name) for name, regex in MASKS]
    config.drain_sim_th = 0.5
    config.profiling_enabled = False
    miner = StockMiner(persistence_handler=None, config=config)
    t0 = time.perf_counter()
    for message in messages:
        miner.add_log_message(message)
    return time.perf_counter() - t0, len(miner.drain.clusters)


@torch.inference_mode()
def forward_only(detector: Detector, sessions: list[list[str]], batch_size: int = 256) -> float:
    """Seconds for the detector's forward pass alone (logits, no ranking) over the same windows: a floor for scoring."""
    encoded = [detector.vocab.encode(keys, complete=False) for keys in sessions]
    model = detector.model.eval()
    t0 = time.perf_counter()
    for b in range(0, len(encoded), batch_size):
        batch = encoded[b : b + batch_size]
        width = max(len(seq) for seq in batch) - 1
        idx = torch.zeros((len(batch), width), dtype=torch.long)
        for row, seq in enumerate(batch):
            idx[row, : len(seq) - 1] = torch.as_tensor(seq[:-1])
        model(idx)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--stock-lines", type=int, default=200_000, help="lines for stock drain3 (it is slow)")
    args = parser.parse_args()
    if not args.data.is_dir():
        sys.exit(f"no Loghub samples at {args.data}; pass --data")
    torch.set_num_threads(1)
    blocks = build_log(args.data, args.lines)
    n = sum(len(b) for b in blocks)

    def parse_and_mine() -> tuple[TemplateMiner, list]:
        miner = TemplateMiner()
        keyed = []
        for block in blocks:
            fmt = detect_format(block).format
            for record in parse_lines(block, fmt, multiline=False):
                keyed.append((record, str(miner.add(record.message))))
        return miner, keyed

    gc.collect()
    t0 = time.perf_counter()
    miner, keyed = parse_and_mine()
    t_mine = time.perf_counter() - t0
    messages = [r.message for r, _ in keyed]
    # Memory in a second, traced run (tracing slows allocation, so it is not timed).
    keyed_again = None
    gc.collect()
    tracemalloc.start()
    miner_again, keyed_again = parse_and_mine()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del miner_again, keyed_again

    t0 = time.perf_counter()
    (stream,) = group_sessions(keyed, SessionSpec("window", size=50))  # a windowed log is one stream …
    sessions = [stream.keys[i : i + 50] for i in range(0, len(stream.keys), 50)]  # … scored in windows of 50
    t_sessions = time.perf_counter() - t0
    config = DetectorTrainConfig(block_size=64, epochs=2)
    model, vocab, topk = fit_detector(sessions[:2000], config, complete=False)
    detector = Detector(model, vocab, topk, complete=False)
    t0 = time.perf_counter()
    detector.score(sessions, batch_size=256)
    t_score = time.perf_counter() - t0
    t_forward = forward_only(detector, sessions)

    stock_n = min(args.stock_lines, len(messages))
    t_stock, stock_templates = stock_drain3(messages[:stock_n])

    t_end = t_mine + t_sessions + t_score
    stock_rate, mine_rate = stock_n / t_stock, n / t_mine
    print(
        f"{n:,} lines from {len([p for p in args.data.iterdir() if p.is_dir()])} Loghub systems, digits re-drawn; 1 thread; Python {sys.version.split()[0]}, torch {torch.__version__}"
    )
    print("| stage | lines/s | vs stock drain3 |")
    print("|---|---:|---:|")
    print(f"| stock drain3 TemplateMiner (same masks, {stock_n:,} lines) | {stock_rate:,.0f} | 1.00× |")
    print(f"| logpt parse + mine | {mine_rate:,.0f} | {mine_rate / stock_rate:.2f}× |")
    print(f"| logpt sessions (windows of 50) | {n / t_sessions:,.0f} | |")
    print(f"| logpt detector scoring ({len(sessions):,} windows) | {n / t_score:,.0f} | |")
    print(f"| (the detector's forward pass alone, no ranking: a ceiling for scoring) | {n / t_forward:,.0f} | |")
    print(f"| logpt end to end (parse + mine + sessions + score) | {n / t_end:,.0f} | {n / t_end / stock_rate:.2f}× |")
    print(f"templates: logpt {len(miner):,}, stock drain3 {stock_templates:,} (on its {stock_n:,} lines)")
    print(f"memory while parsing + mining (tracemalloc peak, records kept): {peak / n:.0f} B/line; "
          f"miner state ≈ {len(str(miner.to_state())) / max(len(miner), 1):.0f} B/template as JSON")  # fmt: skip


if __name__ == "__main__":
    main()
