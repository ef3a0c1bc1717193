from engine.analysis.chunker import chunk_lines
from engine.analysis.chunkplan import ChunkPlan


def words(lines):  # noqa: ANN001, ANN201 - one "token" per word
    return [len(line.split()) for line in lines]


def test_plan_matches_the_exact_chunker_when_counts_add_up() -> None:
    lines = [" ".join(["w"] * (1 + i % 7)) for i in range(200)]
    plan = ChunkPlan(words, 30)
    for i in range(0, 200, 17):  # fed in uneven batches, as a growing file arrives
        plan.extend(lines[i : i + 17])
    count = lambda text: len(text.replace("\n", " \n ").split())  # noqa: E731 - words plus one per newline
    exact = [c.first_line - 1 for c in chunk_lines(lines, count, 30)]
    assert plan.starts == exact
    assert plan.chunk_of(0) == 0 and plan.chunk_of(199) == len(plan) - 1 and plan.chunk_of(200) is None
    first, stop = plan.span(len(plan) - 1)
    assert stop == 200 and first == plan.starts[-1]


def test_an_oversized_line_gets_its_own_chunk() -> None:
    plan = ChunkPlan(words, 5)
    plan.extend(["a b", "a b c d e f g h", "a"])
    assert plan.starts == [0, 1, 2]
    plan.reset()
    assert len(plan) == 0 and plan.chunk_of(0) is None
