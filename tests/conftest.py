"""Shared fixtures: a small byte-level BPE trained in-process and tiny random bundles.

Pretrained weights cannot be downloaded here, so every model in the tests is a
small random one built in the same formats the loaders read.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

from engine.lm.bundle import BundleConfig, TokenizerSpec, save_model
from engine.lm.config import GPTConfig
from engine.lm.importers.gpt2_vocab import load_gpt2_vocab
from engine.lm.model import GPT
from engine.lm.tokenizer import ENDOFTEXT, LOGPT_SPECIALS

# The tests' models are tiny: one thread a process does their work with less than half the CPU of two (which
# spin waiting for each other) and leaves the other core to the next test; subprocesses (the CLI, serve) inherit
# it. OMP_NUM_THREADS set by the caller wins; benchmarks set their own.
os.environ.setdefault("OMP_NUM_THREADS", "1")
torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))

SAMPLE_LOG = """\
Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=218.188.2.4
Jun 14 15:16:02 combo sshd(pam_unix)[19937]: check pass; user unknown
Jun 15 02:04:59 combo sshd(pam_unix)[20882]: authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=220-135-151-1.hinet-ip.hinet.net  user=root
081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_38865049064139660 terminating
081109 203807 222 INFO dfs.DataNode$PacketResponder: PacketResponder 0 for block blk_-6952295868487656571 terminating
2015-10-18 18:01:47,978 INFO [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: Created MRAppMaster for application appattempt_1445144423722_0020_000001
[Sun Dec 04 04:47:44 2005] [error] mod_jk child workerEnv in error state 6
kernel: [ 1234.567890] Out of memory: Killed process 4242 (java) total-vm:8123456kB, anon-rss:7000000kB
Émile a écrit: journal « système » — 日本語のログ ✓
"""


@pytest.fixture(scope="session")
def hf_tokenizer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """vocab.json + merges.txt of a 600-token byte-level BPE trained on SAMPLE_LOG, with LoGPT's specials."""
    from tokenizers import ByteLevelBPETokenizer

    folder = tmp_path_factory.mktemp("hf_tok")
    tok = ByteLevelBPETokenizer()
    tok.train_from_iterator([SAMPLE_LOG] * 20, vocab_size=600, min_frequency=2, special_tokens=[ENDOFTEXT])
    tok.save_model(str(folder))
    # The special token trained first sits at id 0; GPT-2 keeps specials after the merges, so move it there.
    vocab = json.loads((folder / "vocab.json").read_text())
    eot = vocab.pop(ENDOFTEXT)
    vocab = {t: (i - 1 if i > eot else i) for t, i in vocab.items()}
    vocab[ENDOFTEXT] = len(vocab)
    for name in LOGPT_SPECIALS:
        vocab[name] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    return folder


@pytest.fixture(scope="session")
def vocab(hf_tokenizer_dir: Path) -> tuple[dict[bytes, int], dict[str, int]]:
    return load_gpt2_vocab(hf_tokenizer_dir / "vocab.json", hf_tokenizer_dir / "merges.txt")


def tiny_config(n_vocab: int, **overrides: object) -> GPTConfig:
    base = dict(block_size=256, vocab_size=n_vocab, n_layer=2, n_head=2, n_embd=32)
    return GPTConfig(**{**base, **overrides})  # type: ignore[arg-type]


def make_bundle(
    folder: Path, vocab: tuple[dict[bytes, int], dict[str, int]], *, seed: int = 0, **overrides: object
) -> Path:
    ranks, specials = vocab
    n_vocab = max([*ranks.values(), *specials.values()]) + 1
    config = tiny_config(n_vocab, **overrides)
    torch.manual_seed(seed)
    model = GPT(config)
    model.init_weights(seed)
    bundle = BundleConfig(
        model=config,
        tokenizer=TokenizerSpec(special_tokens=specials, eot_token=ENDOFTEXT),
        prompt_format="logpt-v1",
        description="tiny random test bundle",
        provenance={"built_by": "tests"},
    )
    save_model(folder, bundle, model, ranks)
    return folder


@pytest.fixture
def tiny_bundle(tmp_path: Path, vocab: tuple[dict[bytes, int], dict[str, int]]) -> Path:
    return make_bundle(tmp_path / "tiny", vocab)


@pytest.fixture
def sample_log(tmp_path: Path) -> Path:
    path = tmp_path / "sample.log"
    path.write_text(SAMPLE_LOG * 30, encoding="utf-8")
    return path
