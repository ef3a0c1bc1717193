"""The block search (engine/logs/search.py) against the slow reference: every line read as the source reads
it, matched one by one with `UserRegex.search` (what the explorer did before), on inputs chosen to break
a byte-level shortcut."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from engine.errors import InputError
from engine.logs import search
from engine.logs.logsource import BlockSearch, LogSource
from engine.logs.userregex import UserRegex, required_literals, stays_in_line

MAX_LINE = 64  # bytes a line is cut at in these tests, so that cut lines are cheap to make

TRICKY = b"".join(
    [
        b"plain error line\n",
        b"crlf error line\r\n",
        b"two crs\r\r\n",
        b"a lone \r in the middle error\n",
        b"\n",
        b"invalid \xff\xfe utf-8 error\n",
        b"truncated \xe2\x82 sequence \xf0\x9f\n",
        b"surrogate \xed\xa0\x80 bytes\n",
        b"caf\xc3\xa9 CAF\xc3\x89 na\xc3\xafve \xe2\x84\xaaelvin \xc5\xbfign\n",  # café CAFÉ naïve Kelvin sign, long s
        b"x" * 40 + b" error past the cut " + b"x" * 40 + b"\n",  # 'error' after byte 64: cut off
        b"error at the start of a long line " + b"y" * 100 + b"\n",
        b"y" * 60 + b"errxx straddles the cut\n",
        b"ERROR upper\n",
        b"tab\there error\tend\n",
        b"ends with error\n",
        b"error\n",
        b"\r\n",
        b"next line\n",
        b"ssh user root from 10.0.0.25 port 22\n",
        b"na\xc3\xaf\xc3\xa9 \xc3\xa9 \xd9\xa0.25 error\n",  # naïé é, an Arabic-Indic zero: Unicode's \d and \w
        b"no newline at the end error\r",
    ]
)

PATTERNS = [
    ("error", False), ("ERROR", True), ("error$", False), ("^error", False), ("^$", False), ("", False),
    (r"\berror\b", False), ("err.r", False), (r"error\s+line", False), (r"line\s+crlf", False),
    ("café", False), ("CAFÉ", True), ("kelvin", True), ("sign", True), ("[äïé]", False), ("ï+ve", False),
    ("\ufffd", False), ("\ufffd utf", False), (r"\r", False), ("middle error$", False), ("two crs$", False),
    (r"(?s)error.*next", False), (r"(?=error)err", False), (r"(?<!\n)error", False), (r"\Aerror", False),
    (r"error\Z", False), (r"(\w+) \1", False), (r"\d+\.\d+\.\d+\.25\b", False), (r"user (root|admin)\b", False),
    ("(?i)Plain", False), ("line", False), ("x{3}", False), ("e", False), ("no newline at the end error$", False),
    (r"[[:alpha:]]rror", False), (r"(?i:CRLF) error", False), ("straddles", False), ("errxx", False),
    # patterns whose literals have a context (a narrower regex searched first)
    (r"\w+ error$", False), (r"\s+error\b", False), (r"\S*\s+error", False), (r"[^x]+rror\b", True),
    (r"(?a)\w+é", False), (r"\w+é", False), (r"\bcaf\S", True), (r".?rror [a-z]+$", False), (r"\d\.25\b", False),
    (r"x{2,}\s*error", False), (r"\s+line$", False), (r"\W+utf-8", False), (r"\d+ port \d+$", False),
    (r"[a-z]+ \r", False), (r"\s*crs\r?$", False), (r"error\nnext", False), (r"\w+\r\n", False),
    (r"(?a)\W+é", False), (r"\W+é", False), (r"(?a)\D\.25", False), (r"\d\.25 error$", False),
]  # fmt: skip


def reference(source: BlockSearch, pattern: UserRegex) -> list[int]:
    return [i for i, text in enumerate(source.block(0, len(source))) if pattern.search(text)]


@pytest.fixture(params=[(1 << 20, 1 << 20, 16, 16), (97, 61, 16, 1), (300, 5, 1, 1 << 30), (64, 1 << 20, 1000, 0)],
                ids=["one block", "small blocks", "tiny windows", "all sparse"])  # fmt: skip
def sizes(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    block, window, dense, sparse = request.param  # sparse: 1 << 30 searches a context first wherever there is one
    monkeypatch.setattr(search, "BLOCK_BYTES", block)
    monkeypatch.setattr(search, "WINDOW_CHARS", window)
    monkeypatch.setattr(search, "DENSE", dense)
    monkeypatch.setattr(search, "SPARSE", sparse)


@pytest.fixture
def tricky(tmp_path: Path) -> LogSource:
    path = tmp_path / "tricky.log"
    path.write_bytes(TRICKY * 3)
    source = LogSource(path, max_line_bytes=MAX_LINE)
    source.index()
    return source


@pytest.mark.parametrize(("text", "ignore_case"), PATTERNS)
@pytest.mark.usefixtures("sizes")
def test_scan_matches_the_lines_that_line_by_line_matching_does(tricky: LogSource, text: str,
                                                                ignore_case: bool) -> None:  # fmt: skip
    pattern = UserRegex(text, ignore_case=ignore_case)
    blocks = list(search.scan(tricky, pattern))
    assert [line for _, _, lines in blocks for line in lines] == reference(tricky, pattern)
    assert blocks[0][0] == 0 and blocks[-1][1] == len(tricky)
    assert all(a == b for (_, a, _), (b, _, _) in zip(blocks, blocks[1:], strict=False))  # no gap, no overlap


@pytest.mark.parametrize(("text", "ignore_case"), [("error", False), ("kelvin", True), (r"\Aerror", False),
                                                   ("^$", False), ("nothing here", False)])  # fmt: skip
@pytest.mark.usefixtures("sizes")
def test_find_lands_where_the_line_by_line_find_does(tricky: LogSource, text: str, ignore_case: bool) -> None:
    pattern = UserRegex(text, ignore_case=ignore_case)
    for start in range(0, len(tricky), 7):
        for forward in (True, False):
            expected = tricky.find(pattern, start, forward=forward)
            assert search.find(tricky, pattern, start, forward=forward) == expected, (start, forward)


PIECES = [b"a", b"b", b"ab", b" ", b"\r", b"\r\n", b"\n", b"\n", b"\xff", b"\xc3\xa9", b"A", b"K", b"\xe2\x84\xaa", b"1.25",
          b"\xe2\x82", b"\r\n", b"\r\n"]  # fmt: skip
RANDOM_PATTERNS = ["ab", "a b", "^a", "b$", r"a\s*b", "(?i)ab", "é", "a.b", r"\bb\b", "^$", r"a\r", r"(?<=b)a", "k", "1.25",
                   r"\d\.25\b", r"[ab]+ b$", r"\S\s*ab", r"a?\s+b", r"\w+\ufffd", r"\s\.25", "b*"]  # fmt: skip


@pytest.mark.usefixtures("sizes")
def test_random_files_and_patterns_match_as_line_by_line(tmp_path: Path) -> None:
    rng = random.Random(29)
    for trial in range(12):
        path = tmp_path / f"r{trial}.log"
        path.write_bytes(b"".join(rng.choice(PIECES) for _ in range(rng.randrange(0, 400))))
        with LogSource(path, max_line_bytes=rng.choice([8, 64, 4096])) as source:
            source.index()
            for text in RANDOM_PATTERNS:
                pattern = UserRegex(text, ignore_case=rng.random() < 0.3)
                found = [line for _, _, lines in search.scan(source, pattern) for line in lines]
                assert found == reference(source, pattern), (trial, text, pattern.ignore_case)


def test_a_last_line_without_newline_and_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    path.write_bytes(b"")
    with LogSource(path) as source:
        source.index()
        assert list(search.scan(source, UserRegex("x"))) == [] and search.find(source, UserRegex("x"), 0) is None
    path.write_bytes(b"one\ntwo")
    with LogSource(path) as source:
        source.index()
        assert [lines for _, _, lines in search.scan(source, UserRegex("two$"))] == [[1]]


def test_other_sources_are_matched_line_by_line(tricky: LogSource) -> None:
    class Lines(BlockSearch):  # a source of text lines only, like a merged view
        def __len__(self) -> int:
            return len(tricky)

        def block(self, a: int, b: int) -> list[str]:
            return tricky.block(a, b)

    pattern = UserRegex("error$")
    assert [n for _, _, lines in search.scan(Lines(), pattern) for n in lines] == reference(tricky, pattern)
    assert search.find(Lines(), pattern, 5) == tricky.find(pattern, 5)


def test_cancelled_stops_the_scan(tricky: LogSource) -> None:
    assert list(search.scan(tricky, UserRegex("error"), cancelled=lambda: True)) == []
    assert search.find(tricky, UserRegex("error"), 0, cancelled=lambda: True) is None


def test_a_catastrophic_pattern_is_refused_with_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("engine.logs.userregex.TIMEOUT_S", 0.2)  # the same refusal, sooner: 2^26 tries take far longer
    path = tmp_path / "a.log"
    path.write_text("a" * 26 + "b\n" + "ok\n" * 100)
    with LogSource(path) as source, pytest.raises(InputError, match="catastrophic backtracking") as e:
        source.index()
        list(search.scan(source, UserRegex("^(a|a)*$", "search")))
    assert "\n" not in str(e.value)


def test_required_literals_are_what_every_match_contains() -> None:
    def needles(text: str, ignore_case: bool = False) -> list[bytes]:
        return [lit.needle for lit in required_literals(text, ignore_case=ignore_case)]

    assert needles(r"Failed password for \w+ from 5\.36") == [b"Failed password for ", b" from 5.36"]
    assert needles("a(bc)+d") == [b"bc", b"a", b"d"] and needles("x|y") == [] and needles("ab?") == [b"a"]
    assert needles("(?i)Error") == [b"error"] and needles("Kafé", ignore_case=True) == []  # ASCII only folded
    assert needles("abc{e<=1}") == [] and needles("[[:alpha:]]x") == [] and needles(r"\p{L}x") == []
    assert needles("(?i:abc)def") == [b"def"] and needles("caf\ufffd") == [] and needles("é+café") == [b"caf\xc3\xa9", b"\xc3\xa9"]
    assert [lit.whole for lit in required_literals("Did not", ignore_case=False)] == [True]
    assert not required_literals("^Did", ignore_case=False)[0].whole


def test_line_local_patterns_look_at_nothing_past_a_lines_ends() -> None:
    assert stays_in_line(r"^a\b(?:b|c)(?P<x>d)(?i)$") and stays_in_line(r"\\A literal backslash")
    for text in (r"a(?=b)", r"(?<!a)b", r"\Aa", r"a\Z", r"(?s).", r"(?w)^a", "a{e<=1}", "(*FAIL)", r"a\K"):
        assert not stays_in_line(text), text


ASCII_LINES = [b"1 ERROR: disk full\n", b"2 Error: x\r\n", b"3 error:y\n", b"4 errors: z\n", b"5 at 10.0.0.25 ok\n"]


@pytest.mark.parametrize(("text", "ignore_case"), [(r"\s+Error:", True), (r"(?i)\s+Error:", False), (r"\s+Error:", False),
                                                   (r"\d ERROR:\s\w+$", True), (r"\w+ Errors?:\s*\w$", True)])  # fmt: skip
@pytest.mark.usefixtures("sizes")
def test_contexts_fold_case_as_the_pattern_does(tmp_path: Path, text: str, ignore_case: bool) -> None:
    path = tmp_path / "ascii.log"  # all ASCII: a case-blind pattern's literals are counted in lowercased bytes
    path.write_bytes(b"".join(ASCII_LINES) * 40)
    with LogSource(path) as source:
        source.index()
        pattern = UserRegex(text, ignore_case=ignore_case)
        assert [n for _, _, lines in search.scan(source, pattern) for n in lines] == reference(source, pattern)


ITEMS = [r"\d+", r"\w*", r"\s", r"[a-c]", r"[^b]", ".", "a", "b", "ab", r"\.", " ", "^", "$", r"\b", r"\B", r"\d{2}",
         "x?", r"\S+?", r"\W", "\u0660", "é", "(a|b)", r"[\d.]"]  # fmt: skip


def test_a_context_matches_every_line_its_pattern_matches() -> None:
    """The narrower regex is searched instead of the pattern: a line it misses is a match lost."""
    rng, tried = random.Random(7), 0
    lines = ["".join(rng.choice("ab. 12\tABé\u0660x_") for _ in range(rng.randrange(0, 12))) for _ in range(400)]
    for _ in range(400):
        flags = rng.choice(["", "(?i)", "(?a)"])
        pattern = UserRegex(flags + "".join(rng.choice(ITEMS) for _ in range(rng.randrange(2, 6))))
        for literal in pattern.literals:
            narrower = pattern.narrower(literal)
            if narrower is not None:
                tried += 1
                missed = [line for line in lines if pattern.search(line) and not narrower.search(line)]
                assert not missed, (pattern.pattern, literal.context, missed[:3])
    assert tried > 100


def test_contexts_are_the_literal_and_the_plain_items_beside_it() -> None:
    def contexts(text: str, ignore_case: bool = False) -> list[str]:
        return [lit.context for lit in required_literals(text, ignore_case=ignore_case)]

    assert contexts(r"\d+\.\d+\.\d+\.25\b")[0] == r"\x2e25\b"  # the pattern: `.25` is in 43% of its lines
    assert contexts(r"\w+ from 5\.36") == [r"(?<=(?:[\w]){1,})\x20from\x205\x2e36"]
    assert contexts(r"(?i)\s+Err[^o]") == [r"(?i)Err[^o]"] and contexts(r"(?a)\w é") == [r"(?a)(?<=[\w])\x20\xe9"]
    assert contexts(r"port \d+ ssh2$") == ["", ""]  # starts with a literal: the regex itself finds it as fast
    assert contexts(r"\d+(a)bc") == ["", ""] and contexts(r"\d+abc") == [r"(?<=(?:[\d]){1,})abc"]
    assert contexts(r"\d+abc\d") == [r"abc[\d]"]  # whole pattern but not from its start: still narrower
    assert contexts(r"\s*abc") == [""] and contexts(r"\d+abc\s*") == [r"(?<=(?:[\d]){1,})abc"]  # optional: no use


def test_empty_matches_everywhere_cost_a_call_a_line(tmp_path: Path) -> None:
    """`x*` matches at every character: a window with more matches than lines is searched line by line, once
    (it was rescanned from each line to the window's end: a number of calls that grew with the square)."""
    path = tmp_path / "a.log"
    path.write_text("error line\n" * 3000)
    with LogSource(path) as source:
        source.index()
        pattern = UserRegex("x*")
        assert [n for _, _, lines in search.scan(source, pattern) for n in lines] == list(range(3000))
        assert pattern.calls <= 3 * 3000


@pytest.mark.usefixtures("sizes")
def test_a_file_with_nul_bytes_is_scanned_without_marks(tmp_path: Path) -> None:
    path = tmp_path / "nul.log"  # MARK is in the text: each window is scanned match by match
    path.write_bytes(b"a\x00b error\nplain error\r\n\x00\n" * 20)
    with LogSource(path) as source:
        source.index()
        for text in ("error$", "\x00", r"\s+error", "^"):
            pattern = UserRegex(text)
            assert [n for _, _, lines in search.scan(source, pattern) for n in lines] == reference(source, pattern)
