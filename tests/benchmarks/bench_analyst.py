"""Speed of the default analysis model on real chunks, beside transformers and the model-free analyst.

For each chunk (the bundled sample incident and the start of three Loghub
systems the model never trained on) and each query, one process runs: the
bundle in logpt's engine (fp32 free, with the fact guard, and with the
reply grammar that `logpt analyze` and the explorer use by default; int8 with
the grammar), the same weights in
transformers' `GPT2LMHeadModel.generate`, and the analyst. Replies are greedy, up to 256
tokens, stopping at `<|response_end|>` in logpt. Medians over rounds.
Target on the 2-core CPU: decode ≥ 100 tokens/s for the default bundle.

    python -m tests.benchmarks.bench_analyst [--model logpt-analyst] [--rounds 3]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from pathlib import Path

import torch

from engine.analysis.analyst import analyze
from engine.analysis.queries import NAMES as QUERIES
from engine.analysis.run import AnalysisRequest, analyze_chunk, chunk_digest, chunk_prompt, plan_chunks
from engine.lm.bundle import load_bundle
from engine.lm.devices import placement
from engine.lm.generate import GenerationStats
from engine.lm.registry import find_bundle
from engine.lm.sampling import SamplingConfig
from tests.benchmarks.bench_generate import hf_state

ROOT = Path(__file__).resolve().parents[2]
LOGHUB = ROOT.parent / "shared" / "datasets" / "loghub"


def chunk_texts() -> dict[str, str]:
    texts = {"web-incident": (ROOT / "assets" / "samples" / "web-incident.log").read_text()}
    for system in ("Zookeeper", "OpenStack", "Mac"):
        path = LOGHUB / system / f"{system}_2k.log"
        if path.is_file():
            texts[system] = "\n".join(path.read_text(errors="replace").splitlines()[:40])
    return texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    import transformers

    path = find_bundle(args.model)
    fp32 = load_bundle(path, placement("cpu"))
    int8 = load_bundle(path, placement("cpu"), quantize="int8")
    c = fp32.config.model
    hf = transformers.GPT2LMHeadModel(
        transformers.GPT2Config(vocab_size=c.vocab_size, n_positions=c.block_size, n_embd=c.n_embd, n_layer=c.n_layer, n_head=c.n_head)
    ).eval()  # fmt: skip
    hf.load_state_dict(hf_state(fp32.model.state_dict()), strict=False)
    request = AnalysisRequest("summary", 256, SamplingConfig(temperature=0.0))
    engines = (("logpt fp32", fp32, "off"), ("logpt fp32 + fact guard", fp32, "facts"),
               ("logpt fp32 + grammar (default)", fp32, "grammar"), ("logpt int8 + grammar", int8, "grammar"))  # fmt: skip
    rates: dict[str, list[float]] = {name: [] for name, _, _ in engines} | {"transformers": []}
    reply_s: dict[str, list[float]] = {name: [] for name, _, _ in engines} | {"analyst": []}
    for _ in range(args.rounds):
        for text in chunk_texts().values():
            chunk = plan_chunks(fp32, text, request)[0]
            digest = chunk_digest(chunk)
            for query in QUERIES:
                for name, bundle, constrain in engines:
                    q = AnalysisRequest(query, 256, SamplingConfig(temperature=0.0), constrain=constrain)
                    stats = GenerationStats()
                    t0 = time.perf_counter()
                    ids = list(analyze_chunk(bundle, chunk, q, stats, digest))
                    reply_s[name].append(time.perf_counter() - t0)
                    rates[name].append(stats.decode_tokens_per_s)
                n_new = max(2, len(ids))
                prompt = torch.tensor([chunk_prompt(fp32, chunk, q, digest)])
                with torch.inference_mode():
                    t0 = time.perf_counter()
                    hf.generate(
                        prompt,
                        attention_mask=torch.ones_like(prompt),
                        max_new_tokens=1,
                        do_sample=False,
                        pad_token_id=0,
                    )
                    prefill = time.perf_counter() - t0
                    t0 = time.perf_counter()
                    hf.generate(prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=n_new, min_new_tokens=n_new,
                                do_sample=False, pad_token_id=0)  # fmt: skip
                    rates["transformers"].append((n_new - 1) / max(time.perf_counter() - t0 - prefill, 1e-9))
                t0 = time.perf_counter()
                analyze(digest, query)
                reply_s["analyst"].append(time.perf_counter() - t0)
    base = statistics.median(rates["transformers"])
    print(f"{fp32.name} ({sum(p.numel() for p in fp32.model.parameters()) / 1e6:.1f}M parameters), {len(chunk_texts())} chunks × 3 queries × "
          f"{args.rounds} rounds, greedy, ≤ 256 new tokens; {platform.processor() or platform.machine()}, "
          f"{torch.get_num_threads()} threads; torch {torch.__version__}; medians")  # fmt: skip
    print("| engine | decode tok/s | vs transformers | seconds per reply |")
    print("|---|---:|---:|---:|")
    for name in ("transformers", *(name for name, _, _ in engines), "analyst"):
        rate = statistics.median(rates[name]) if name in rates else None
        secs = statistics.median(reply_s[name]) if name in reply_s else None
        print(f"| {name} | {'–' if rate is None else f'{rate:.1f}'} | {'–' if rate is None else f'{rate / base:.2f}×'} | "
              f"{'–' if secs is None else f'{secs:.3f}'} |")  # fmt: skip


if __name__ == "__main__":
    main()
