"""Detector evaluation under the LogNEO/LogGPT protocol, on the data sets in ../shared/datasets.

Splits (see the data sets' README): 5,000 normal sessions to train, 1,000
normal to validate, the rest to test. For `hdfs` only a sample of the normal
test population exists, so precision is estimated by scaling the held-out
false-positive rate to HDFS's 553,366 normal test sessions. K of the top-K
rule is chosen on the validation normals alone (no anomaly labels): the
smallest K whose false-positive rate there is at most `target_fpr`.
"""

from __future__ import annotations

import copy
import csv
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from engine.detect import Detector, KeyVocab
from engine.detect.fit import DetectorTrainConfig, choose_topk, flags, new_model, train_detector
from engine.detect.history import mine_sessions
from engine.detect.scoring import score_sequences, session_surprise
from engine.errors import InputError
from engine.logs.formats import detect_format
from engine.logs.sessions import SessionSpec
from engine.logs.templates import TemplateMiner
from engine.logs.textio import read_lines
from train.deeplog import DeepLogConfig, deeplog_scores, train_deeplog
from train.rl import RLConfig, finetune

HDFS_NORMAL_POPULATION = 553_366
DATASETS = ("hdfs", "hdfs100k", "bgl", "hdfs-raw-split")


@dataclass(frozen=True)
class Split:
    name: str
    train: list[list[str]]
    val: list[list[str]]
    test_normal: list[list[str]]
    test_abnormal: list[list[str]]
    normal_population: int | None  # scale FPR to this many normals for precision; None: use the test set as is


def _read_key_lines(path: Path) -> list[list[str]]:
    if not path.is_file():
        raise InputError(f"missing {path}", "pass the data set folder with --data")
    return [line.split() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_split(dataset: str, data: Path) -> Split:
    if dataset == "hdfs":
        base = data / "deeplog" if (data / "deeplog").is_dir() else data
        extra = _read_key_lines(base / "hdfs_extra_normal_7000")
        return Split(
            "hdfs",
            _read_key_lines(base / "hdfs_train") + extra[:145],
            extra[145:1145],
            extra[1145:],
            _read_key_lines(base / "hdfs_test_abnormal"),
            HDFS_NORMAL_POPULATION,
        )
    if dataset == "hdfs100k":
        base = data / "hdfs100k" if (data / "hdfs100k").is_dir() else data
        path = base / "sessions.jsonl"
        if not path.is_file():
            raise InputError(f"missing {path}", "pass the data set folder with --data")
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        normal = [[str(k) for k in r["keys"]] for r in rows if r["label"] == 0]
        abnormal = [[str(k) for k in r["keys"]] for r in rows if r["label"] == 1]
        return Split("hdfs100k", normal[:5000], normal[5000:6000], normal[6000:], abnormal, None)
    if dataset == "bgl":
        base = data / "timewin" if (data / "timewin").is_dir() else data
        val = _read_key_lines(base / "bgl_val")
        cut = int(len(val) * 0.85)
        return Split(
            "bgl",
            val[:cut],
            val[cut:],
            _read_key_lines(base / "bgl_test_normal"),
            _read_key_lines(base / "bgl_test_abnormal"),
            None,
        )
    if dataset == "hdfs-raw-split":
        return raw_hdfs_split(data / "hdfs100k" if (data / "hdfs100k").is_dir() else data)
    raise InputError(f"unknown data set {dataset!r}", f"choose one of {', '.join(DATASETS)}")


def raw_hdfs_split(base: Path) -> Split:
    """Raw HDFS lines → logpt's own format detection, template mining and block sessions, split by label.

    Normal blocks in order of first appearance: 60% train, 20% validation, 20% test; every
    anomalous block is a test anomaly.
    """
    raw, labels_csv = base / "raw" / "HDFS_5k.log", base / "anomaly_label_100k.csv"
    if not raw.is_file() or not labels_csv.is_file():
        raise InputError(f"missing {raw} or {labels_csv}", "pass the hdfs data folder with --data")
    with labels_csv.open(encoding="utf-8", newline="") as f:
        labels = {row["BlockId"]: row["Label"] for row in csv.DictReader(f)}
    lines = read_lines(raw)
    sessions = mine_sessions(lines, detect_format(lines).format, SessionSpec.default_for("hdfs"), TemplateMiner())
    normal = [s.keys for s in sessions if labels.get(s.id) == "Normal"]
    abnormal = [s.keys for s in sessions if labels.get(s.id) == "Anomaly"]
    a, b = int(len(normal) * 0.6), int(len(normal) * 0.8)
    return Split("hdfs-raw-split", normal[:a], normal[a:b], normal[b:], abnormal, None)


@dataclass(frozen=True)
class Metrics:
    method: str
    fpr: float  # on the held-out normals
    precision: float  # estimated for hdfs (see module docstring)
    recall: float
    f1: float
    auc_roc: float
    tp: int
    fp: int  # on the held-out normals
    setting: str  # the top-K rule or threshold used


def auc_roc(normal: Sequence[float], abnormal: Sequence[float]) -> float:
    """Probability that an anomalous session scores above a normal one (ties count half)."""
    ranked = sorted([(s, 0) for s in normal] + [(s, 1) for s in abnormal])
    rank_sum = 0.0
    i = 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        mid = (i + j + 1) / 2  # average 1-based rank of the tie group
        rank_sum += mid * sum(1 for k in range(i, j) if ranked[k][1] == 1)
        i = j
    n1, n0 = len(abnormal), len(normal)
    return (rank_sum - n1 * (n1 + 1) / 2) / (n0 * n1) if n0 and n1 else 0.0


def metrics(method: str, split: Split, normal_flags: Sequence[bool], abnormal_flags: Sequence[bool],
            normal_scores: Sequence[float], abnormal_scores: Sequence[float], setting: str) -> Metrics:  # fmt: skip
    fp = sum(normal_flags)
    tp = sum(abnormal_flags)
    fpr = fp / len(normal_flags)
    fp_est = fpr * split.normal_population if split.normal_population else fp
    precision = tp / (tp + fp_est) if tp + fp_est else 0.0
    recall = tp / len(abnormal_flags)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Metrics(method, fpr, precision, recall, f1, auc_roc(normal_scores, abnormal_scores), tp, fp, setting)


@dataclass(frozen=True)
class EvalConfig:
    target_fpr: float = 0.001  # allowed false-positive rate on validation normals when choosing K
    kind: str = "prob"  # the top-K rule chosen on validation: "prob" (adaptive floor) or "count"
    methods: tuple[str, ...] = ("mle", "rl-binary", "rl-positional", "deeplog")
    seed: int = 0


def _rl_variants(model, split: Split, train, val, normal, abnormal, vocab_size: int, config: EvalConfig,  # noqa: ANN001
                 say: Callable[[str], None]) -> list[Metrics]:  # fmt: skip
    """The MLE detector fine-tuned with PPO, one per reward asked for in config.methods."""
    results = []
    for reward in ("binary", "positional"):
        if f"rl-{reward}" not in config.methods:
            continue
        k = int(choose_topk(score_sequences(model, val), vocab_size, config.target_fpr, "count").value)
        tuned = copy.deepcopy(model)
        say(f"PPO fine-tuning, {reward} reward, K={k}")
        finetune(tuned, train, RLConfig(reward=reward, k=k, seed=config.seed),
                 on_batch=lambda i, n, hit, r=reward: say(f"PPO {r}: batch {i}/{n}, top-K hit rate {hit:.3f}"))  # fmt: skip
        rl_topk = choose_topk(score_sequences(tuned, val), vocab_size, config.target_fpr, config.kind)
        rn, ra = score_sequences(tuned, normal), score_sequences(tuned, abnormal)
        name = "logpt GPT + binary RL" if reward == "binary" else "logpt GPT + positional RL"
        results.append(
            metrics(
                name, split, flags(rn, rl_topk, vocab_size), flags(ra, rl_topk, vocab_size),
                [session_surprise(s) for s in rn], [session_surprise(s) for s in ra], rl_topk.describe() + f" (K={k} in RL)",
            )
        )  # fmt: skip
    return results


def _deeplog(split: Split, train, normal, abnormal, vocab_size: int, config: EvalConfig,  # noqa: ANN001
             say: Callable[[str], None]) -> Metrics:  # fmt: skip
    """The DeepLog LSTM baseline on the same sessions."""
    say("training the DeepLog LSTM baseline")
    dl_config = DeepLogConfig(seed=config.seed)
    lstm = train_deeplog(
        vocab_size, train, dl_config, on_epoch=lambda e, loss: say(f"DeepLog epoch {e}: loss {loss:.4f}")
    )
    dn, da = deeplog_scores(lstm, normal, dl_config), deeplog_scores(lstm, abnormal, dl_config)
    return metrics("DeepLog LSTM", split, [f for f, _ in dn], [f for f, _ in da], [s for _, s in dn], [s for _, s in da],
                   "top-9")  # fmt: skip


def evaluate_detectors(
    split: Split,
    train_config: DetectorTrainConfig,
    config: EvalConfig,
    on_progress: Callable[[str], None] | None = None,
    pretrained: Detector | None = None,
) -> tuple[list[Metrics], Detector]:
    """Train each method on split.train, choose its rule on split.val, score the test sets.

    With `pretrained`, the GPT detector is not trained: its vocabulary and rule are used as
    saved (and no RL variant is run). Returns the metrics and the GPT detector.
    """
    say = on_progress or (lambda _msg: None)
    vocab = pretrained.vocab if pretrained else KeyVocab.from_sequences(split.train)
    train, val, normal, abnormal = (
        [vocab.encode(s) for s in part] for part in (split.train, split.val, split.test_normal, split.test_abnormal)
    )
    results: list[Metrics] = []

    if pretrained is None:
        say("training the GPT detector (MLE)")
        model = new_model(len(vocab), train_config)
        train_detector(
            model, train, val, train_config, on_epoch=lambda r: say(f"MLE epoch {r.epoch}: val loss {r.val_loss:.4f}")
        )
        topk = choose_topk(score_sequences(model, val), len(vocab), config.target_fpr, config.kind)
        detector = Detector(
            model, vocab, topk, complete=True,
            provenance={"dataset": split.name, "train_sessions": len(train), "rule_chosen_on": "validation normals",
                        "target_fpr": config.target_fpr, "train_config": asdict(train_config)},
        )  # fmt: skip
    else:
        detector, model, topk = pretrained, pretrained.model, pretrained.topk
    say("scoring")
    normal_scores, abnormal_scores = score_sequences(model, normal), score_sequences(model, abnormal)
    results.append(
        metrics(
            "logpt GPT (MLE)", split, flags(normal_scores, topk, len(vocab)), flags(abnormal_scores, topk, len(vocab)),
            [session_surprise(s) for s in normal_scores], [session_surprise(s) for s in abnormal_scores], topk.describe(),
        )
    )  # fmt: skip

    if pretrained is None:
        results.extend(_rl_variants(model, split, train, val, normal, abnormal, len(vocab), config, say))
    if "deeplog" in config.methods:
        results.append(_deeplog(split, train, normal, abnormal, len(vocab), config, say))
    return results, detector
