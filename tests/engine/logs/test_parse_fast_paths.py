"""The parse path's shortcuts against the plain readings they replace, line by line on every Loghub sample.

`time_span` skips the time forms whose pattern is not found in a line's digit shape, `summarize` guesses a
level once per digit shape, and `sniff_level` searches an ASCII message's lowered text with the patterns its
stems call for: each must give what trying every form and the whole case-blind patterns give, on the samples
as written and with their digits re-drawn (times that no longer read: the forms that fail are the ones the
shortcut skips).
"""

from __future__ import annotations

import datetime
import functools
import random
from pathlib import Path

import pytest

from engine.logs import clock, timeforms
from engine.logs.formats import GENERIC, parse_lines
from engine.logs.formats import record as record_module
from engine.logs.formats.record import _sniff_plain, level_of, sniff_level
from engine.logs.templates import TemplateMiner
from engine.logs.templates import summary as summary_module
from engine.logs.templates.masks import digit_shape
from engine.logs.templates.summary import TemplateTally, summarize

LOGHUB = Path(__file__).resolve().parents[4] / "shared" / "datasets" / "loghub"
needs_loghub = pytest.mark.skipif(
    not LOGHUB.is_dir(), reason="Loghub samples (../shared/datasets/loghub) are not on this machine"
)


# Every line of every sample in the slow run; every third line otherwise (each test a few seconds).
STRIDES = [3, pytest.param(1, marks=pytest.mark.slow)]


def time_span_plain(line: str, first: int = 0) -> tuple[int, int, int] | None:
    """The reference: every form tried in turn, `first` first, as time_span did before its shortcut."""
    head = line[: clock.HEAD]
    for i in (first, *range(len(timeforms._READERS))):
        find, read = timeforms._READERS[i]
        if (m := find(head)) is not None and read(m, 2000) is not None:
            start = m.start(1)
            return start, start + len(head[start : m.end()].rstrip()), i
    return None


def redrawn(lines: list[str], seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice("0123456789") if c.isdigit() else c for c in line) for line in lines]


@functools.cache
def samples() -> list[tuple[str, list[str]]]:
    """Each sample's lines, then the same with digits re-drawn (read once for the module's tests)."""
    found = []
    for folder in sorted(p for p in LOGHUB.iterdir() if p.is_dir()):
        path = folder / f"{folder.name}_2k.log"
        if path.is_file():
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
            found += [(folder.name, lines), (f"{folder.name} (digits re-drawn)", redrawn(lines, 7))]
    return found


def spans(lines: list[str], read) -> list[tuple[int, int, int] | None]:  # noqa: ANN001 - time_span or the reference
    """Each line's span, the form that read a line passed on to the next (as GenericFormat does)."""
    first, found = 0, []
    for line in lines:
        span = read(line, first)
        found.append(span)
        if span is not None:
            first = span[2]
    return found


@needs_loghub
@pytest.mark.parametrize("stride", STRIDES)
def test_time_spans_are_the_plain_readings_on_every_loghub_sample(stride: int) -> None:
    for name, every in samples():
        lines = every[::stride]
        assert spans(lines, clock.time_span) == spans(lines, time_span_plain), name
        mixed = lines[::7] + lines[3::11]  # forms changing from line to line
        assert spans(mixed, clock.time_span) == spans(mixed, time_span_plain), name


LINES = [
    "2026-11-20 10:02:03,123 INFO app: ok",
    "2026-99-20 10:02:03,123 INFO app: a time that does not read",
    "Nov 20 10:02:03 web-01 sshd[1]: ok",
    "Foo 12 10:00:00 then Nov 20 10:02:03 2019 the first match does not read",
    "Sun Dec 04 17:43:12 2005 ctime",
    "Sun Dec 04 17:43:12 1905 a year after the time",
    "Sun Dec 04 17:43:12 3005 no year after the time",
    "[21/Nov/2026:10:00:12 +0000] GET /",
    "081109 203615 148 INFO dfs.DataNode: ok",
    "20171223-22:15:41:672|Step_LSC|30002312|x",
    "03-17 16:13:38.811  1702  2395 E Tag: x",
    "I0302 10:22:40.619632  4242 server.cc:87] ok",
    "17/06/09 20:10:40 INFO spark: x",
    "1700000000250 event",
    "[1700000000.25] event",
    "no time at all",
    "٢٠٢٦-11-20 10:02:03 Arabic-Indic digits are digits too",
    "x" * 90 + "2026-11-20 10:02:03 past the head",
    "\udcff 2026-11-20 10:02:03 a lone surrogate",
    "",
]


@pytest.mark.parametrize("first", range(len(timeforms._READERS)))
def test_time_spans_of_odd_lines_whatever_form_comes_first(first: int) -> None:
    for line in LINES + redrawn(LINES, 1) + redrawn(LINES, 2):
        assert clock.time_span(line, first) == time_span_plain(line, first), (line, first)


class PlainReader(clock.TimeReader):
    """The reference TimeReader: every form tried in turn, the last one that read a line first."""

    def read(self, text: str) -> tuple[float, int] | None:
        if not text:
            return None
        for i in (self._form, *range(len(timeforms._READERS))):
            find, read = timeforms._READERS[i]
            if (m := find(text)) is not None and (t := read(m, self.year)) is not None:
                if self._latest is not None and t > self._latest and timeforms.yearless(i, m):
                    t = read(m, self.year - 1) or t
                self._form, self._dated = i, int(t // 86400)
                return t, timeforms.seconds_at(i, m)
        day = self._dated if self._dated is not None else self.day
        if day is None or (m := clock._TIME_OF_DAY.match(text)) is None:
            return None
        h, mi, s, f = m.groups()
        if int(h) > 23 or int(mi) > 59 or int(s) > 60:
            return None
        return day * 86400.0 + int(h) * 3600 + int(mi) * 60 + int(s) + clock._fraction(f), m.start(3)


@needs_loghub
@pytest.mark.parametrize("stride", STRIDES)
def test_time_readers_read_the_plain_times_on_every_loghub_sample(stride: int) -> None:
    day = datetime.date(2026, 11, 20)
    for name, lines in samples():
        fast, plain = clock.TimeReader(2026, day=day), PlainReader(2026, day=day)
        shuffled = lines[stride - 1 :: stride] + lines[::-stride]  # out of order, as a binary search reads them
        for line in shuffled + [f"{line[-40:]} 10:02:{i % 60:02d}" for i, line in enumerate(lines[::9])]:
            assert fast(line) == plain(line), (name, line)


def test_a_form_not_found_in_a_shape_is_not_tried_again(monkeypatch: pytest.MonkeyPatch) -> None:
    tried: list[int] = []

    def counting(i: int, find):  # noqa: ANN001, ANN202
        def counted(text: str):  # noqa: ANN202
            tried.append(i)
            return find(text)

        return counted

    readers = tuple((counting(i, f), r) for i, (f, r) in enumerate(timeforms._READERS))
    monkeypatch.setattr(timeforms, "_READERS", readers)
    timeforms._found_in.cache_clear()
    try:
        assert clock.time_span("[86.28 36:44:23] chrome.exe - proxy:5070 open through proxy") is None  # no form
        tried.clear()
        assert clock.time_span("[12.17 05:13:57] chrome.exe - proxy:5382 open through proxy") is None
        assert tried == [0]  # the form tried first; the others were not found in this shape
    finally:
        timeforms._found_in.cache_clear()


def summaries_plain(lines: list[str]) -> list:
    """The reference: every record's level from level_of, nothing remembered."""
    tally, miner = TemplateTally(), TemplateMiner()
    for record in parse_lines(lines, GENERIC):
        tally.add(miner.add(record.message), record, level_of(record)[0])
    return tally.summaries(miner)


@needs_loghub
def test_messages_of_one_digit_shape_get_one_guess_on_every_loghub_sample() -> None:
    for name, lines in samples()[::2]:
        for line, twin in zip(lines[::3], redrawn(lines[::3], 3), strict=True):
            assert digit_shape(line) == digit_shape(twin)
            assert sniff_level(line) == sniff_level(twin), (name, line, twin)


@pytest.mark.slow
@needs_loghub
def test_summaries_guess_the_levels_level_of_gives_on_every_loghub_sample() -> None:
    for name, lines in samples():
        assert summarize(parse_lines(lines, GENERIC), TemplateMiner()) == summaries_plain(lines), name


def test_a_level_is_guessed_once_per_digit_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    sniffed: list[str] = []
    plain = summary_module.sniff_level

    def sniff(message: str) -> str | None:
        sniffed.append(message)
        return plain(message)

    monkeypatch.setattr(summary_module, "sniff_level", sniff)
    lines = ["job 12 failed", "job 97 failed", "job 5 failed", "job 1234 failed", "job 40 ok"]
    found = summarize(parse_lines(lines, GENERIC), TemplateMiner())
    assert sniffed == ["job 12 failed", "job 5 failed", "job 1234 failed", "job 40 ok"]
    assert {s.example: s.level for s in found} == {"job 12 failed": "ERROR", "job 40 ok": None}


WORDS = [
    "Interrupting SendWorker",  # `err` inside a word: no error
    "Can't save in background; WARN",
    "cant open the device, a warning",  # `can'?t` beside a warning's stem
    "cant open the device",  # no stem of _STEMS at all: no guess
    "queue is full at the end of a long line of words that pushes it far from where the stem was first found: err",
    "x" * 40 + " remounting filesystem read-only",
    "x" * 40 + " got no answer from 10.0.0.1",
    "bind: address already in use",
    "java.io.IOException: Broken pipe",
    "CPU exception support enabled",
    "exception handling vector set",
    "KeyError: 'x'",
    "an Error in the errors.log",
    "libgpg-error-dev on_error_fn /var/log/errors/ error.log",
    "status=2/FAILURE",
    "timeout=30 retrying",
    "BUG: unable to handle kernel paging request",
    "bug: fix",
    "Oops: 0002 [#1] SMP",
    "logrotate: ALERT exited abnormally",
    "no ALERTs are active; crit_level=3",
    "Kernel Panic - not syncing",
    "general protection fault: 0000",
    "FATAL ERROR in native method",
    "DEPRECATED option, Warning",
    "ſegfault and a warning",  # not ASCII: the plain path, where ſ matches s case-blind
    "job failed – retrying",
    "",
]


def test_sniff_level_is_the_plain_reading_on_odd_messages() -> None:
    for message in WORDS + [w.upper() for w in WORDS] + [w.title() for w in WORDS]:
        assert sniff_level(message) == _sniff_plain(message), message


@needs_loghub
@pytest.mark.parametrize("stride", STRIDES)
def test_sniff_level_is_the_plain_reading_on_every_loghub_line(stride: int) -> None:
    for name, lines in samples()[::2]:
        for line in lines[::stride]:
            assert sniff_level(line) == _sniff_plain(line), (name, line)


class _Refused:
    """A pattern that may not be searched."""

    def search(self, *args: object) -> None:
        raise AssertionError("the whole case-blind pattern was searched")


def test_an_ascii_message_is_not_searched_with_the_whole_case_blind_patterns(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("_CRIT", "_ERROR", "_WARN"):
        monkeypatch.setattr(record_module, name, _Refused())
    assert sniff_level("2015-07-29 WARN [RecvWorker] - Interrupting SendWorker") == "WARN"
    assert sniff_level("java.io.IOException: Broken pipe") == "ERROR"
    assert sniff_level("Kernel panic - not syncing") == "CRITICAL"
