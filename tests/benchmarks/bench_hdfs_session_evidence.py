"""Session-level evidence on the HDFS DeepLog protocol, beside the pure top-K rule of the shipped detector.

What each kind of session evidence adds to `detector-hdfs` (top-K, rule chosen on validation normals):

- transitions: a pair of consecutive keys (BOS and EOS included) never seen in the training normals;
- invariants: pairs of keys whose counts are equal in ≥ 99.9% of training sessions that have either
  (mined on training normals only), a session breaking one is flagged;
- ensembles of those with the top-K flag and with "has a key never seen in training", in OR and AND forms.

Every rule is fixed from training and validation normals; the test anomalies are only counted.

    python -m tests.benchmarks.bench_hdfs_session_evidence [--data ../shared/datasets/hdfs]
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from engine.detect import Detector
from engine.detect.fit import flags
from engine.detect.scoring import score_sequences
from engine.detect.vocab import UNK
from train.detector_eval import Split, load_split, metrics

BUNDLE = Path(__file__).resolve().parents[2] / "weights" / "detector-hdfs"
DEFAULT_DATA = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "hdfs"
PARTS = ("val", "test_normal", "test_abnormal")


def pairs(session: Sequence[str]) -> set[tuple[str, str]]:
    keys = ["<s>", *session, "</s>"]
    return set(zip(keys, keys[1:], strict=False))


def invariants(train: Sequence[Sequence[str]], hold: float = 0.999, min_share: float = 0.05) -> list[tuple[str, str]]:
    counts = [Counter(s) for s in train]
    keys = sorted({k for s in train for k in s})
    found = []
    for a, b in itertools.combinations(keys, 2):
        having = [c for c in counts if c[a] or c[b]]
        if len(having) >= min_share * len(counts) and sum(c[a] == c[b] for c in having) >= hold * len(having):
            found.append((a, b))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    if not (args.data / "deeplog").is_dir():
        sys.exit(f"no DeepLog HDFS sessions under {args.data}; pass --data")
    split: Split = load_split("hdfs", args.data)
    detector = Detector.load(BUNDLE)
    size = len(detector.vocab)
    scores = {p: score_sequences(detector.model, [detector.vocab.encode(s) for s in getattr(split, p)]) for p in PARTS}
    topk = {p: flags(scores[p], detector.topk, size) for p in PARTS}
    unseen = {p: [bool((s.tokens == UNK).any()) for s in scores[p]] for p in PARTS}
    seen_pairs = set().union(*(pairs(s) for s in split.train))
    transitions = {p: [bool(pairs(s) - seen_pairs) for s in getattr(split, p)] for p in PARTS}
    rules = invariants(split.train)
    broken = {p: [any(Counter(s)[a] != Counter(s)[b] for a, b in rules) for s in getattr(split, p)] for p in PARTS}

    def combine(fn) -> dict[str, list[bool]]:  # noqa: ANN001
        return {p: [fn(*v) for v in zip(topk[p], unseen[p], transitions[p], broken[p], strict=True)] for p in PARTS}

    candidates = {
        "top-K (shipped rule)": topk,
        "transitions": transitions,
        f"invariants ({', '.join(f'#{a}=#{b}' for a, b in rules) or 'none'})": broken,
        "top-K or transitions": combine(lambda t, u, tr, b: t or tr),
        "top-K or invariants": combine(lambda t, u, tr, b: t or b),
        "unseen key or (top-K and transitions)": combine(lambda t, u, tr, b: u or (t and tr)),
    }
    print(f"HDFS DeepLog protocol, {BUNDLE.name}; precision estimated from the held-out FPR × 553,366 normals")
    print("| evidence | val FPR | test FPR | precision | recall | F1 |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, flagged in candidates.items():
        n, a = flagged["test_normal"], flagged["test_abnormal"]
        m = metrics(name, split, n, a, [0.0] * len(n), [1.0] * len(a), "")
        val = sum(flagged["val"]) / len(flagged["val"])
        print(f"| {name} | {val:.4f} | {m.fpr:.4f} | {m.precision:.3f} | {m.recall:.3f} | {m.f1:.3f} |")


if __name__ == "__main__":
    main()
