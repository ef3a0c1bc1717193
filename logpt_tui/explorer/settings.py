"""The explorer's settings, in one block: how much each worker does at a time, how often it looks, and the
limits that keep a big file or a flood within memory. The modules that use one import it from here, so a
value is written once (tests may still set a module's copy with monkeypatch).

The engine's own settings live in their layer: the analyst's chunk (engine/analysis/chunker.py), the flag
rule (engine/detect/evidence.py, EvidenceRule), the format sample (engine/logs/formats/detect.py).
"""

from __future__ import annotations

# Following a file
POLL_SECONDS = 1.0  # the fallback when file events do not arrive
PREVIEW_ABOVE_BYTES = 8 << 20  # files larger than this show their last lines before the index is built
SPOOL_CAP_BYTES = 1 << 30  # a spooled pipe or stream keeps its newest part: `yes | logpt-tui -` must not fill the disk
STREAM_PAGE = 10_000  # entries per XREAD of a followed Redis stream
STREAM_BLOCK_MS = 1000  # how long one XREAD waits for new entries

# Workers
BATCH = 20_000  # lines per step of the filter, planning, mining, flagging and export workers
SCORE_SESSIONS = 2_000  # sessions scored between two updates of the flags
SCORE_LINES = 500_000  # lines of a long session scored between two updates (one session can span a whole file)

# Flags
FLOOD_LINES = 50_000  # lines the tail may run ahead of the detector before it samples
FLOOD_KEEP = 5_000  # lines judged after a skip: the newest
SELF_TRAIN_EPOCHS = 20  # as `logpt detect --self-train` (its --epochs default): the same file, the same detector
BOOK_MB = 100  # the memory cap: what a file's session book may hold; lines past it are not judged (#29)

# The view and the panel
CACHE_LINES = 2000  # rendered lines kept
MAX_RENDER_WIDTH = 2000  # characters of a line rendered (a longer one scrolls to its cut)
FOLLOW_CHECK_SECONDS = 0.25  # how often a following view looks for the end
STREAM_REDRAW_S = 0.25  # a streaming reply is redrawn at most this often: Markdown rendering per token starves decoding
LOCK_POLL_S = 0.1  # how often a reply waiting for the model looks whether it was cancelled
SOURCE_CONTEXT = 20  # lines shown before and after a stream row's source line (`o`)
