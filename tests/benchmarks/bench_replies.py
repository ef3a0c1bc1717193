"""Are the default model's replies readable and grounded on logs it never trained on? Per constraint.

Held-out real logs: Loghub Zookeeper, OpenStack and Mac (kept out of the
bundled model's training data) and, when present, this machine's dpkg and apt
logs. For each, up to `--chunks` of the model's own chunks spread over the
first `--lines` lines, and each query, one greedy reply per constraint
(`--constrain grammar`, the default; `facts`; `off`). Reported per constraint:
replies readable (≤ 5% unknown words), the unknown-word share over all reply
words, grounding precision (numbers, addresses, ids and paths found in the
chunk or its digest), root-cause category agreement with the analyst (all, and
only where the digest supports more than one category so the model chose),
and decode tokens/s (median per reply, prefill excluded). Also the median
lines per chunk. Targets (the model issue): readable ≥ 95%, unknown ≤ 2%,
grounding ≥ 0.98, unforced agreement ≥ 0.85, decode ≥ 100 tok/s with the
constraint, constraint overhead ≤ 10%.

    python -m tests.benchmarks.bench_replies [--model logpt-analyst] [--chunks 6] [--lines 400]
"""

from __future__ import annotations

import argparse
import platform
import statistics
from dataclasses import dataclass, field
from pathlib import Path

import torch

from engine.analysis.analyst import analyze, category_of, supported_fields
from engine.analysis.grounding import check_grounding
from engine.analysis.queries import CATEGORY_FIELD, NAMES
from engine.analysis.readability import readability
from engine.analysis.run import CONSTRAINTS, AnalysisRequest, analyze_chunk, chunk_digest, plan_chunks
from engine.lm.bundle import load_bundle
from engine.lm.devices import placement
from engine.lm.generate import GenerationStats
from engine.lm.registry import find_bundle
from engine.lm.sampling import SamplingConfig

ROOT = Path(__file__).resolve().parents[2]
LOGHUB = ROOT.parent / "shared" / "datasets" / "loghub"
MACHINE_LOGS = {"dpkg": Path("/var/log/dpkg.log"), "apt term": Path("/var/log/apt/term.log"),
                "apt history": Path("/var/log/apt/history.log")}  # fmt: skip


def held_out_logs(lines: int) -> dict[str, str]:
    paths = {name: LOGHUB / name / f"{name}_2k.log" for name in ("Zookeeper", "OpenStack", "Mac")} | MACHINE_LOGS
    return {
        name: "\n".join(path.read_text(encoding="utf-8", errors="replace").split("\n")[:lines])
        for name, path in paths.items()
        if path.is_file()
    }


@dataclass
class Tally:
    replies: int = 0
    readable: int = 0
    words: int = 0
    unknown: int = 0
    checked: int = 0
    grounded: int = 0
    causes: int = 0
    agree: int = 0
    free: int = 0
    free_agree: int = 0
    rates: list[float] = field(default_factory=list)
    cut: int = 0  # replies that ran out of tokens

    def row(self, name: str) -> str:
        agree = f"{self.agree / self.causes:.3f} ({self.causes})" if self.causes else "–"
        free = f"{self.free_agree / self.free:.3f} ({self.free})" if self.free else "– (0)"
        rate = statistics.median(self.rates) if self.rates else 0.0
        return (f"| {name} | {self.readable}/{self.replies} ({self.readable / max(1, self.replies):.0%}) | "
                f"{self.unknown / max(1, self.words):.1%} | {self.grounded / max(1, self.checked):.3f} ({self.checked}) | "
                f"{agree} | {free} | {rate:.0f} | {self.cut} |")  # fmt: skip


def reply_for(bundle, chunk, digest, query: str, constrain: str, budget: int, tallies: list[Tally]) -> str:  # noqa: ANN001
    request = AnalysisRequest(query, budget, SamplingConfig(temperature=0.0), constrain=constrain)
    stats = GenerationStats()
    reply = bundle.tokenizer.decode(list(analyze_chunk(bundle, chunk, request, stats, digest)))
    sources = [chunk.text, digest.render()]
    r, g = readability(reply, sources), check_grounding(reply, sources)
    same = category_of(reply) == category_of(analyze(digest, query))
    chose = len(supported_fields(digest)[CATEGORY_FIELD]) > 1
    for tally in tallies:
        tally.replies, tally.cut = tally.replies + 1, tally.cut + (stats.stop_reason != "stop_token")
        tally.readable += not r.garbled
        tally.words, tally.unknown = tally.words + r.words, tally.unknown + len(r.unknown)
        tally.checked, tally.grounded = tally.checked + g.checked, tally.grounded + g.grounded
        if stats.new_tokens > 1:
            tally.rates.append(stats.decode_tokens_per_s)
        if query == "root_cause":
            tally.causes, tally.agree = tally.causes + 1, tally.agree + same
            tally.free, tally.free_agree = tally.free + chose, tally.free_agree + (same and chose)
    return reply


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None)
    parser.add_argument("--chunks", type=int, default=6, help="chunks per log, spread evenly")
    parser.add_argument("--lines", type=int, default=400, help="lines read from the start of each log")
    parser.add_argument("--max-tokens", type=int, default=AnalysisRequest().max_new_tokens, help="reply budget")
    parser.add_argument("--show", action="store_true", help="print every reply")
    args = parser.parse_args()
    bundle = load_bundle(find_bundle(args.model), placement("cpu"))
    tallies = {c: Tally() for c in CONSTRAINTS}
    per_log: dict[str, Tally] = {}
    lines_per_chunk: list[int] = []
    logs = held_out_logs(args.lines)
    for name, text in logs.items():
        chunks = plan_chunks(bundle, text, AnalysisRequest("summary", args.max_tokens))
        lines_per_chunk += [c.last_line - c.first_line + 1 for c in chunks]
        step = max(1, len(chunks) // args.chunks)
        for chunk in chunks[::step][: args.chunks]:
            digest = chunk_digest(chunk)
            for query in NAMES:
                for constrain in CONSTRAINTS:
                    also = [per_log.setdefault(name, Tally())] if constrain == "grammar" else []
                    reply = reply_for(
                        bundle, chunk, digest, query, constrain, args.max_tokens, [tallies[constrain], *also]
                    )
                    if args.show:
                        print(
                            f"--- {name} lines {chunk.first_line}-{chunk.last_line} {query} --constrain {constrain}\n{reply}"
                        )
    print(f"{bundle.name}: {', '.join(logs)}; up to {args.chunks} chunks each × {len(NAMES)} queries, greedy, ≤ {args.max_tokens} "
          f"tokens; {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}; "
          f"median lines per chunk {statistics.median(lines_per_chunk):.0f} ({len(lines_per_chunk)} chunks)")  # fmt: skip
    head = "| {} | readable | unknown words | grounding (facts) | category = analyst | unforced only | decode tok/s | cut at the budget |"
    rule = "|---|---:|---:|---:|---:|---:|---:|---:|"
    print(head.format("--constrain"), rule, *(t.row(c) for c, t in tallies.items()), sep="\n")
    base, grammar = statistics.median(tallies["off"].rates), statistics.median(tallies["grammar"].rates)
    print(
        f"\ndecode overhead of the grammar: {1 - grammar / base:+.1%} (off {base:.0f} tok/s, grammar {grammar:.0f})\n"
    )
    print(head.format("log (grammar)"), rule, *(t.row(n) for n, t in per_log.items()), sep="\n")


if __name__ == "__main__":
    main()
