"""The shipped detector-hdfs on raw HDFS lines: its key table gives them DeepLog's keys, sessions by block."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.detect import Detector
from engine.detect.pipeline import DetectionPipeline
from engine.logs.formats import choose_format
from tests.logpt_tui.cli.test_cli import run

BUNDLE = Path(__file__).resolve().parents[2] / "weights" / "detector-hdfs"
BLOCK = "blk_-1608999687919862906"
NORMAL = [  # one block's life, as HDFS writes it (the DeepLog keys of these lines: 5 5 5 22 11 9 11 9 11 9 26 26 26)
    f"081109 203518 143 INFO dfs.DataNode$DataXceiver: Receiving block {BLOCK} src: /10.250.19.102:54106 dest: /10.250.19.102:50010",
    f"081109 203518 35 INFO dfs.FSNamesystem: BLOCK* NameSystem.allocateBlock: /mnt/hadoop/mapred/system/job_1/job.jar. {BLOCK}",
    f"081109 203519 143 INFO dfs.DataNode$DataXceiver: Receiving block {BLOCK} src: /10.250.10.6:40524 dest: /10.250.10.6:50010",
    f"081109 203519 145 INFO dfs.DataNode$DataXceiver: Receiving block {BLOCK} src: /10.250.14.224:42420 dest: /10.250.14.224:50010",
    f"081109 203519 145 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block {BLOCK} terminating",
    f"081109 203519 145 INFO dfs.DataNode$PacketResponder: Received block {BLOCK} of size 91178 from /10.250.10.6",
    f"081109 203519 147 INFO dfs.DataNode$PacketResponder: PacketResponder 2 for block {BLOCK} terminating",
    f"081109 203519 147 INFO dfs.DataNode$PacketResponder: Received block {BLOCK} of size 91178 from /10.250.19.102",
    f"081109 203519 149 INFO dfs.DataNode$PacketResponder: PacketResponder 0 for block {BLOCK} terminating",
    f"081109 203519 149 INFO dfs.DataNode$PacketResponder: Received block {BLOCK} of size 91178 from /10.250.14.224",
    f"081109 203519 29 INFO dfs.FSNamesystem: BLOCK* NameSystem.addStoredBlock: blockMap updated: 10.250.10.6:50010 is added to {BLOCK} size 91178",
    f"081109 203519 31 INFO dfs.FSNamesystem: BLOCK* NameSystem.addStoredBlock: blockMap updated: 10.250.14.224:50010 is added to {BLOCK} size 91178",
    f"081109 203519 26 INFO dfs.FSNamesystem: BLOCK* NameSystem.addStoredBlock: blockMap updated: 10.250.19.102:50010 is added to {BLOCK} size 91178",
]  # fmt: skip


def test_raw_lines_get_deeplogs_keys_and_block_sessions() -> None:
    detector = Detector.load(BUNDLE)
    assert detector.key_table and detector.session is not None and detector.session.kind == "id"
    pipeline = DetectionPipeline.prepare(NORMAL, choose_format(NORMAL, None, ()), detector=detector)
    book = pipeline.judge(NORMAL, keep_verdicts=True)
    assert list(book.sessions) == [BLOCK]
    assert book.sessions[BLOCK].keys == ["5", "22", "5", "5", "11", "9", "11", "9", "11", "9", "26", "26", "26"]
    assert book.flags() == []  # a normal block's life: nothing unexpected


def test_an_exception_in_a_block_is_flagged_as_a_template_the_bundle_never_saw(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = [*NORMAL[:4], f"081109 203520 145 INFO dfs.DataNode$DataXceiver: writeBlock {BLOCK} received exception "
              "java.io.IOException: Connection reset by peer"]  # fmt: skip
    path = tmp_path / "hdfs.log"
    path.write_text("\n".join(broken) + "\n")
    code, out, err = run(["detect", str(path), "--detector", "detector-hdfs", "--json"], capsys)
    assert code == 0, err
    flags = [json.loads(line) for line in out.splitlines() if json.loads(line)["type"] == "flag"]
    exception = next(f for f in flags if f["line"] == 5)
    assert exception["template"] == "writeBlock <*> received exception <*>"  # key 7 of the table
    assert {e["kind"] for e in exception["evidence"]} >= {"novel", "severity"}
