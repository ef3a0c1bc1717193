"""Does the root cause name the cause, not a symptom? The analyst and the bundled model on known incidents.

The incidents (`tests/benchmarks/incident_set.py`, 24 kinds written for this
benchmark: not the knowledge base's example lines; then a held-out group and a
second set of other kinds written from the real software's own messages, each
reported on its own line) are cascades — routine
traffic, the cause at a known line, then its symptoms repeated (5xx, restarts,
timeouts), which outnumber the cause. Each is rendered with `--seeds`
different routine traffic. A root cause passes when its `**Signature:**` is
one of the incident's cause signatures. The analyst answers for the whole
incident (one span); the model (`--model`, default the bundled one, reply
grammar on) for its first chunk, which holds the incident. Also reported: the
replies' readability. Target (the analysis issue): the cause named in ≥ 90%,
replies readable in 100%.

    python -m tests.benchmarks.bench_incidents [--seeds 3] [--no-model] [--show]
"""

from __future__ import annotations

import argparse
import platform
import re

from engine.analysis.analyst import analyze
from engine.analysis.digest import build_digest
from engine.analysis.knowledge import default_kb
from engine.analysis.readability import readability
from tests.benchmarks.incident_set import HELD_OUT, INCIDENTS, SECOND_SET, Incident, render

SIGNATURE = re.compile(r"^\*\*Signature:\*\* (.+)$", re.MULTILINE)


def named(reply: str) -> str | None:
    """The signature id a root-cause reply names, if any (the longest title its Signature line begins with:
    titles may hold parentheses, like the count after them)."""
    m = SIGNATURE.search(reply)
    if not m:
        return None
    found = [s for s in default_kb().signatures if m.group(1).startswith(s.title + " (")]
    return max(found, key=lambda s: len(s.title)).id if found else None


def names_cause(said: str | None, causes: tuple[str, ...] | set[str] | list[str]) -> bool:
    """Whether the signature named is one of the causes, or a narrower signature that refines one (a memcg OOM
    names the OOM, a PostgreSQL deadlock the deadlock)."""
    kb = default_kb()
    seen: set[str] = set()
    while said is not None and said not in seen:
        if said in causes:
            return True
        seen.add(said)
        said = kb.by_id[said].refines or None
    return False


def model_reply(bundle, lines: list[str]) -> str:  # noqa: ANN001
    from engine.analysis.run import AnalysisRequest, analyze_chunk, plan_chunks  # noqa: PLC0415
    from engine.lm.generate import GenerationStats  # noqa: PLC0415
    from engine.lm.sampling import SamplingConfig  # noqa: PLC0415

    request = AnalysisRequest("root_cause", sampling=SamplingConfig(temperature=0.0))
    chunk = plan_chunks(bundle, "\n".join(lines), request, per_chunk=len(lines))[0]
    return bundle.tokenizer.decode(list(analyze_chunk(bundle, chunk, request, GenerationStats())))


def judge(case: Incident, seed: int, bundle, show: bool) -> dict[str, tuple[bool, str | None, bool]]:  # noqa: ANN001
    lines, _ = render(case, seed)
    digest = build_digest(lines)
    replies = {"analyst": analyze(digest, "root_cause")}
    if bundle is not None:
        replies["model"] = model_reply(bundle, lines)
    out = {}
    for engine, reply in replies.items():
        said = named(reply)
        out[engine] = (
            names_cause(said, case.cause),
            said,
            not readability(reply, ["\n".join(lines), digest.render()]).garbled,
        )
        if show:
            print(f"--- {case.name} (seed {seed}) · {engine}\n{reply}\n")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--model", default=None)
    parser.add_argument("--no-model", action="store_true")
    parser.add_argument("--show", action="store_true", help="print every reply")
    args = parser.parse_args()
    bundle = None
    if not args.no_model:
        from engine.lm.bundle import load_bundle  # noqa: PLC0415
        from engine.lm.devices import placement  # noqa: PLC0415
        from engine.lm.registry import find_bundle  # noqa: PLC0415

        bundle = load_bundle(find_bundle(args.model), placement("cpu"))
    engines = ["analyst"] + (["model"] if bundle is not None else [])
    print(f"{len(INCIDENTS)} + {len(HELD_OUT)} held-out + {len(SECOND_SET)} second-set incidents × {args.seeds} "
          f"renderings; {platform.machine()}; "
          f"model: {bundle.name if bundle else 'none'} (reply grammar)")  # fmt: skip
    sections = (
        ("tuned on", INCIDENTS),
        ("held out (never tuned on)", HELD_OUT),
        ("second set (issue 27: written from the real software's messages, never tuned on)", SECOND_SET),
    )
    for title, cases in sections:
        print(f"\n### {title}\n")
        table(cases, engines, bundle, args.seeds, args.show)


def table(cases: list[Incident], engines: list[str], bundle, seeds: int, show: bool) -> None:  # noqa: ANN001
    totals = {e: [0, 0, 0] for e in engines}  # cause named, readable, replies
    print("| incident | cause | " + " | ".join(f"{e}: named (cause named)" for e in engines) + " |")
    print("|---|---|" + "---|" * len(engines))
    for case in cases:
        cells: dict[str, list] = {e: [] for e in engines}
        for seed in range(seeds):
            for engine, (ok, said, readable) in judge(case, seed, bundle, show).items():
                totals[engine] = [totals[engine][0] + ok, totals[engine][1] + readable, totals[engine][2] + 1]
                cells[engine].append((ok, said))
        row = [f"{', '.join(sorted({s or 'none' for _, s in cells[e]}))} ({sum(ok for ok, _ in cells[e])}/{seeds})"
               for e in engines]  # fmt: skip
        print(f"| {case.name} | {', '.join(sorted(case.cause))} | " + " | ".join(row) + " |")
    print()
    for e, (ok, readable, n) in totals.items():
        print(
            f"{e}: cause named in {ok}/{n} ({ok / n:.0%}; target ≥ 90%), readable {readable}/{n} ({readable / n:.0%})"
        )


if __name__ == "__main__":
    main()
