"""The seam every front end shares: a chunk's reply streamed, reviewed and, when asked, replaced by the analyst's."""

from __future__ import annotations

from collections.abc import Callable, Generator

from engine.analysis.analyst import analyze
from engine.analysis.chunker import Chunk, line_chunks
from engine.analysis.digest import Digest
from engine.analysis.reply import NOT_WRITTEN, AnalystWriter, Generation, answer, chunk_digest

LINES = [
    "Nov 21 10:00:01 web-01 sshd[812]: Accepted publickey for deploy from 10.0.0.4 port 50122 ssh2",
    "Nov 21 10:00:03 web-01 kernel: Out of memory: Killed process 4121 (java) total-vm:8123456kB",
    "Nov 21 10:00:04 web-01 systemd[1]: api.service: Main process exited, code=killed, status=9/KILL",
]
GARBLED = ["A service or areaks; ", "the service or port: ", "the service or rundancanccess killer."]


def chunk() -> Chunk:
    return next(line_chunks(LINES, len(LINES), first_line=41))


class ScriptedWriter:
    """A model stand-in: writes the pieces it is given and says it wrote one token per piece."""

    name, model_free = "scripted", False

    def __init__(self, pieces: list[str]) -> None:
        self.pieces = pieces
        self.digests: list[Digest] = []

    def write(
        self, chunk: Chunk, digest: Digest, query: str, cancelled: Callable[[], bool]
    ) -> Generator[str, None, Generation]:
        self.digests.append(digest)
        for piece in self.pieces:
            if cancelled():
                break
            yield piece
        return Generation(tokens=len(self.pieces), stop_reason="stop_token")


def test_each_piece_streams_before_the_whole_reply_is_reviewed() -> None:
    pieces = ["Process 4121 ", "was killed ", "for memory; ", "see 10.9.9.9."]
    seen: list[str] = []
    reply = answer(chunk(), "summary", ScriptedWriter(pieces), on_text=seen.append)
    assert seen == pieces and reply.text == "".join(pieces)
    assert (reply.first_line, reply.last_line, reply.author, reply.by_analyst) == (41, 43, "scripted", False)
    assert reply.generation == Generation(tokens=4, stop_reason="stop_token")
    assert reply.ungrounded == ("10.9.9.9",) and reply.grounding.checked == 2  # 4121 is in the chunk
    assert not reply.garbled and reply.instead_of is None and not reply.cancelled


def test_the_writer_reads_the_digest_of_the_chunk_and_its_flags() -> None:
    writer = ScriptedWriter(["ok"])
    answer(chunk(), "root_cause", writer, flagged={42: "outside the top 5"})
    (digest,) = writer.digests
    assert digest == chunk_digest(chunk(), {42: "outside the top 5"})
    assert [(f.line, f.reason) for f in digest.flagged] == [(42, "outside the top 5")]


def test_a_garbled_reply_is_replaced_by_the_analysts_only_when_asked() -> None:
    kept = answer(chunk(), "root_cause", ScriptedWriter(GARBLED))
    assert kept.garbled and kept.text == "".join(GARBLED) and kept.instead_of is None
    streamed: list[str] = []
    replaced = answer(chunk(), "root_cause", ScriptedWriter(GARBLED), fallback=True, on_text=streamed.append)
    assert replaced.text == analyze(chunk_digest(chunk()), "root_cause") and replaced.by_analyst
    assert replaced.author == "analyst" and not replaced.garbled and replaced.generation == NOT_WRITTEN
    assert replaced.instead_of == kept  # the model's reply, with its own review
    assert streamed == GARBLED  # the analyst's text is the caller's to render, not streamed


def test_a_cancelled_reply_is_kept_as_written_and_never_replaced() -> None:
    calls = iter([False, True])  # the first piece, then cancelled
    reply = answer(chunk(), "summary", ScriptedWriter(GARBLED), fallback=True, cancelled=lambda: next(calls, True))
    assert reply.cancelled and reply.text == GARBLED[0] and reply.instead_of is None


def test_the_analyst_writes_at_once_from_the_digest() -> None:
    seen: list[str] = []
    reply = answer(chunk(), "action_items", AnalystWriter(), fallback=True, on_text=seen.append)
    assert seen == [reply.text] and reply.text == analyze(chunk_digest(chunk()), "action_items")
    assert reply.by_analyst and reply.author == "analyst" and reply.generation == NOT_WRITTEN
    assert reply.ungrounded == () and not reply.garbled
