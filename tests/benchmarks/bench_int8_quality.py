"""What `--quantize int8` costs in quality: perplexity of a trained log model, fp32 vs int8.

Trains a small GPT (4 layers, 192 wide, BPE of 2,048 tokens trained here) on
Loghub samples for a few minutes on the CPU, then measures perplexity on
systems it never saw, in fp32 and with int8 weights, in one process.

    python -m tests.benchmarks.bench_int8_quality [--data ../shared/datasets/loghub] [--steps 600]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import torch

from engine.lm.bundle import BundleConfig, TokenizerSpec, save_model
from engine.lm.config import GPTConfig
from engine.lm.model import GPT
from engine.lm.quantize import quantize_int8
from engine.lm.tokenizer import ENDOFTEXT
from train.lm import LMTrainConfig, train_lm
from train.perplexity import mean_nll
from train.tokenizer import train_bpe

HELD_OUT = ("Apache", "OpenSSH", "Zookeeper")
DEFAULT_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "loghub"


def read_systems(data: Path) -> dict[str, str]:
    return {
        p.name: (p / f"{p.name}_2k.log").read_text(encoding="utf-8", errors="replace")
        for p in sorted(data.iterdir())
        if (p / f"{p.name}_2k.log").is_file()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--save", type=Path, help="also save the trained fp32 model as a bundle here")
    args = parser.parse_args()
    if not args.data.is_dir():
        sys.exit(f"no Loghub samples at {args.data}; pass --data")
    torch.manual_seed(0)
    systems = read_systems(args.data)
    train_text = "\n".join(t for name, t in systems.items() if name not in HELD_OUT)
    tok = train_bpe([train_text], 2048)
    ranks, specials = tok.ranks, tok.special_tokens
    train_ids = torch.tensor(tok.encode(train_text))
    split = int(len(train_ids) * 0.95)
    model = GPT(GPTConfig(block_size=128, vocab_size=tok.n_vocab, n_layer=4, n_head=4, n_embd=192))
    model.init_weights(seed=0)
    t0 = time.perf_counter()
    cfg = LMTrainConfig(steps=args.steps, batch_size=16, seq_len=128, lr=2e-3, warmup_steps=40, eval_every=100)
    val = train_lm(model, train_ids[:split], train_ids[split:], cfg)
    minutes = (time.perf_counter() - t0) / 60

    if args.save:
        config = BundleConfig(
            model=model.config,
            tokenizer=TokenizerSpec(special_tokens=specials, eot_token=ENDOFTEXT),
            description="small log language model from the int8 quality benchmark (not an analysis model)",
            provenance={"data": "Loghub 2k samples", "held_out": list(HELD_OUT), "steps": args.steps, "val_nll": val},
        )
        save_model(args.save, config, model, ranks)
    int8 = GPT(model.config)
    int8.load_state_dict(model.state_dict())
    quantize_int8(int8.eval())
    print(f"model: 4 layers x 192, BPE {tok.n_vocab}, trained {args.steps} steps in {minutes:.1f} min on "
          f"{len(systems) - len(HELD_OUT)} Loghub systems (val NLL {val:.3f}); {torch.get_num_threads()} CPU threads")  # fmt: skip
    print("| text | tokens | ppl fp32 | ppl int8 | change |")
    print("|---|---:|---:|---:|---:|")
    row("validation: last 5% of the seen systems", train_ids[split:], model, int8)
    held = [torch.tensor(tok.encode(systems[name])) for name in HELD_OUT]
    for name, ids in zip(HELD_OUT, held, strict=True):
        row(f"unseen system: {name}", ids, model, int8)
    row("unseen systems together", torch.cat(held), model, int8)


def row(label: str, ids: torch.Tensor, fp32: GPT, int8: GPT) -> None:
    a, b = math.exp(mean_nll(fp32, ids, 128)), math.exp(mean_nll(int8, ids, 128))
    print(f"| {label} | {len(ids)} | {a:.3f} | {b:.3f} | {100 * (b / a - 1):+.2f}% |")


if __name__ == "__main__":
    main()
