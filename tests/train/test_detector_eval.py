"""Evaluation arithmetic and the data set protocol."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import pytest

from train.detector_eval import HDFS_NORMAL_POPULATION, Split, auc_roc, load_split, metrics

DATA = Path(__file__).resolve().parents[3] / "shared" / "datasets"


def test_auc_matches_pairwise_counting() -> None:
    rng = random.Random(0)
    normal = [rng.choice([0.1, 0.5, 1.0, 2.0]) for _ in range(40)]
    abnormal = [rng.choice([0.5, 1.0, 3.0, 5.0]) for _ in range(25)]
    pairs = [(1.0 if a > n else 0.5 if a == n else 0.0) for n, a in itertools.product(normal, abnormal)]
    assert auc_roc(normal, abnormal) == pytest.approx(sum(pairs) / len(pairs))


def test_precision_is_scaled_to_the_normal_population() -> None:
    split = Split("hdfs", [], [], [["1"]] * 1000, [["2"]] * 100, HDFS_NORMAL_POPULATION)
    m = metrics("x", split, [True] * 2 + [False] * 998, [True] * 90 + [False] * 10, [0.0] * 1000, [1.0] * 100, "rule")
    fp_est = 0.002 * HDFS_NORMAL_POPULATION
    assert m.precision == pytest.approx(90 / (90 + fp_est)) and m.recall == 0.9 and m.fp == 2


@pytest.mark.skipif(not (DATA / "hdfs").is_dir(), reason="../shared/datasets/hdfs is not on this machine")
def test_hdfs_split_follows_the_protocol() -> None:
    split = load_split("hdfs", DATA / "hdfs")
    assert (len(split.train), len(split.val), len(split.test_normal), len(split.test_abnormal)) == (
        5000,
        1000,
        5855,
        16838,
    )
    raw = load_split("hdfs-raw-split", DATA / "hdfs")
    assert len(raw.test_abnormal) == 10 and len(raw.train) + len(raw.val) + len(raw.test_normal) == 100


@pytest.mark.slow  # trains and evaluates on ten planted logs
def test_raw_evaluation_runs_the_whole_pipeline_on_planted_logs() -> None:
    from train.raw_eval import eval_planted

    result = eval_planted("combined", seeds=[11], say=lambda _m: None)
    assert result.dataset == "planted" and result.extra["incidents"] == 1
    assert 0 <= result.precision <= 1 and result.extra["clean_flags_per_1000"] >= 0


@pytest.mark.skipif(not (DATA / "loghub" / "BGL").is_dir(), reason="../shared/datasets/loghub is not on this machine")
def test_bgl_2k_labels_never_reach_the_pipeline(monkeypatch: pytest.MonkeyPatch) -> None:
    import train.raw_eval as raw_eval

    seen: list[str] = []
    monkeypatch.setattr(raw_eval, "flags_of", lambda lines, rule, detector=None: seen.extend(lines) or [])
    result = raw_eval.eval_bgl_2k(DATA / "loghub", "combined")
    assert result.extra["alerts"] == 143 and len(seen) == 2000 and all(line.startswith("- ") for line in seen)
