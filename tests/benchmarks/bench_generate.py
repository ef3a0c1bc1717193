"""Prefill and decode speed: logpt fp32, logpt int8 and transformers `generate`, one script.

GPT-2 124M shape, random weights, batch 1, a 900-token prompt, 256 new tokens
(greedy, no early stop). 900 + 256 exceeds GPT-2's 1024 positions, so both
models get a 1280-row position table (+0.4M parameters); nothing else changes. Every engine runs the same prompt in the same process;
rounds alternate engines and the table reports medians, so a neighbour's load
affects all of them alike. Targets (2-core CPU): decode ≥ 1.2× transformers in
fp32 and ≥ 2.5× with int8; prefill no slower than transformers.

    python -m tests.benchmarks.bench_generate [--rounds 3] [--device cpu] [--compile] [--json FILE]

`--compile` adds logpt with the torch.compile decode step (`generate(compiled=True)`; CUDA only).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections.abc import Callable

import torch

from engine.lm.config import preset
from engine.lm.generate import GenerationStats, generate
from engine.lm.model import GPT
from engine.lm.quantize import quantize_int8
from engine.lm.sampling import SamplingConfig

CONTEXT = 1280  # room for 900 + 256 tokens


def logpt_run(model: GPT, prompt: list[int], new: int, compiled: bool = False) -> tuple[float, float]:
    stats = GenerationStats()
    greedy = SamplingConfig(temperature=0.0)
    ids = list(generate(model, prompt, max_new_tokens=new, sampling=greedy, stats=stats, compiled=compiled))
    assert len(ids) == new
    return stats.prefill_seconds, stats.decode_tokens_per_s


def transformers_runner(state: dict[str, torch.Tensor], device: torch.device, dtype: torch.dtype) -> Callable:
    import transformers

    config = transformers.GPT2Config(vocab_size=50257, n_positions=CONTEXT, n_embd=768, n_layer=12, n_head=12)
    model = transformers.GPT2LMHeadModel(config).to(device=device, dtype=dtype).eval()
    model.load_state_dict(hf_state(state), strict=False)

    def run(prompt: list[int], new: int) -> tuple[float, float]:
        ids = torch.tensor([prompt], device=device)
        mask = torch.ones_like(ids)
        with torch.inference_mode():
            t0 = time.perf_counter()
            model.generate(
                ids, attention_mask=mask, max_new_tokens=1, min_new_tokens=1, do_sample=False, pad_token_id=0
            )
            sync(device)
            prefill = time.perf_counter() - t0
            t0 = time.perf_counter()
            out = model.generate(
                ids, attention_mask=mask, max_new_tokens=new, min_new_tokens=new, do_sample=False, pad_token_id=0
            )
            sync(device)
            total = time.perf_counter() - t0
        assert out.shape[1] == len(prompt) + new
        # generate() = prefill + (new - 1) decode steps; decode speed excludes the prefill.
        return prefill, (new - 1) / max(total - prefill, 1e-9)

    return run


def hf_state(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    conv1d = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")
    return {k: (v.t().contiguous() if k.endswith(conv1d) else v) for k, v in state.items()}


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--prompt-tokens", type=int, default=900)
    parser.add_argument("--new-tokens", type=int, default=256)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--compile", action="store_true", help="also logpt with the compiled decode step (CUDA)")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    device = torch.device(args.device)
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32

    model = GPT(preset("gpt2", block_size=CONTEXT))
    model.init_weights(seed=0)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    model = model.to(device=device, dtype=dtype).eval()
    prompt = torch.randint(0, 50257, (args.prompt_tokens,), generator=torch.Generator().manual_seed(0)).tolist()

    engines: dict[str, Callable[[list[int], int], tuple[float, float]]] = {
        "transformers": transformers_runner(state, device, dtype),
        f"logpt {str(dtype).removeprefix('torch.')}": lambda p, n: logpt_run(model, p, n),
    }
    if args.compile and device.type == "cuda":
        engines[f"logpt {str(dtype).removeprefix('torch.')} compiled"] = lambda p, n: logpt_run(model, p, n, True)
    if device.type == "cpu":
        int8 = GPT(preset("gpt2", block_size=CONTEXT))
        int8.load_state_dict(state)
        int8 = quantize_int8(int8.eval())
        engines["logpt int8"] = lambda p, n: logpt_run(int8, p, n)

    for run in engines.values():  # warm-up: allocator, kernels, lazy init
        run(prompt[:64], 8)
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in engines}
    for _ in range(args.rounds):
        for name, run in engines.items():
            results[name].append(run(prompt, args.new_tokens))

    base_prefill = statistics.median(r[0] for r in results["transformers"])
    base_decode = statistics.median(r[1] for r in results["transformers"])
    rows = []
    for name, runs in results.items():
        prefill = statistics.median(r[0] for r in runs)
        decode = statistics.median(r[1] for r in runs)
        rows.append(dict(engine=name, prefill_s=prefill, decode_tok_s=decode,
                         prefill_vs_hf=base_prefill / prefill, decode_vs_hf=decode / base_decode))  # fmt: skip
    machine = (
        torch.cuda.get_device_name(device) if device.type == "cuda"
        else f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads"
    )  # fmt: skip
    print(f"GPT-2 124M shape ({CONTEXT} positions, random weights), batch 1, prompt {args.prompt_tokens}, {args.new_tokens} new tokens, greedy;"
          f" median of {args.rounds} rounds; {machine}; torch {torch.__version__}")  # fmt: skip
    print("| engine | prefill s | decode tok/s | prefill speed vs transformers | decode vs transformers |")
    print("|---|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['engine']} | {r['prefill_s']:.3f} | {r['decode_tok_s']:.1f} | {r['prefill_vs_hf']:.2f}× | {r['decode_vs_hf']:.2f}× |"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": machine, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
