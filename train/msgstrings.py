"""Log messages from source code: each logging call's format string and the level its developer chose.

A source tree (C, Java, Scala, Go, Python files) is read file by file: comments are blanked, the calls of
train.msgapis found, their arguments split (strings, nested brackets and comments respected, over several
lines), and the message is the first argument made of string literals: adjacent literals joined
("a" "b"), macro prefixes dropped (KERN_ERR "…", APLOGNO(…) "…", "%" PRIu64 read as %llu), gettext-like
wrappers opened (_("…"), errmsg("…")), a parenthesised list searched (PostgreSQL's ereport), and in the
languages that concatenate with "+" each non-literal piece kept as a value slot. Escapes are decoded, and
interpolated expressions (Python f-strings, Scala s"…") become value slots too (`slot`).
train.msgrender renders a message into a concrete line; `source_examples` mines those lines into
(tag, template) training examples the way train.linelm.knowledge_examples does.

What this leaves out: test code and vendored trees (their messages are not the software's), calls whose
level is set at run time, and files over `MAX_FILE_BYTES` (generated code).
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from engine.detect.unusual import tag_of
from engine.logs.templates import TemplateMiner
from train.msgapis import CALLS, LANGUAGE_OF, WRAPPERS, level_of_call
from train.msgrender import render, slot

Example = tuple[str, str]  # (tag, template text), as train.linelm's
MAX_FILE_BYTES = 1_500_000
MAX_CALL_CHARS = 4_000  # a call whose ")" is further away is not read (unbalanced text, a macro body)
SKIP_DIRS = {"test", "tests", "testing", "testdata", "unittest", "unittests", "vendor", "third_party",
             "node_modules", "__pycache__"}  # fmt: skip
TEST_FILE = re.compile(r"_test\.(?:go|py|c)$|^test_\w*\.py$|(?:Test|Tests|Suite|Spec)\.(?:java|scala)$|^Test\w*\.java$")

_CHAR = r"'(?:\\.|[^'\\\n]){1,8}'"
_C_STRING = r'"(?:\\.|[^"\\\n])*"'
STRING = {
    "c": rf"(?:u8|[LuU])?{_C_STRING}|{_CHAR}",
    "java": rf'"""[\s\S]*?"""|{_C_STRING}|{_CHAR}',
    "scala": rf'(?:s|f|raw)?(?:"""[\s\S]*?"""|{_C_STRING})|{_CHAR}',
    "go": rf"{_C_STRING}|`[^`]*`|{_CHAR}",
    "python": r"""(?i:[rbuf]{0,2})(?:'''[\s\S]*?'''|\"\"\"[\s\S]*?\"\"\"|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*")""",
}
COMMENT = {lang: r"#[^\n]*" if lang == "python" else r"//[^\n]*|/\*[\s\S]*?\*/" for lang in STRING}
CODE = {lang: re.compile(rf"(?P<s>{STRING[lang]})|{COMMENT[lang]}") for lang in STRING}
LITERAL = {lang: re.compile(STRING[lang]) for lang in STRING}
TOKEN = {
    lang: re.compile(rf"(?P<s>{STRING[lang]})|(?P<w>[A-Za-z_][\w.]*)|(?P<o>[(\[{{])|(?P<c>[)\]}}])|(?P<k>,)|\s+|(?P<x>.)")
    for lang in STRING
}  # fmt: skip
MACRO = re.compile(r"[A-Z_][A-Z0-9_]*\Z")
OPEN_PERCENT = re.compile(r"%[-+ #0-9.]*\Z")  # a conversion an <inttypes.h> macro ends
PRI = re.compile(r"(?:SCN|S?PRI)([diouxX]?)[A-Za-z]*\d*\Z")  # <inttypes.h>'s PRIu64, sssd's SPRIuid
ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{1,2}|u[0-9a-fA-F]{4}|[0-7]{1,3}|[\s\S])")
CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
F_FIELD = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")
S_FIELD = re.compile(r"\$\$|\$\{([^}]*)\}(?:%[-#+ 0,(]*\d*(?:\.\d+)?[a-zA-Z])?|\$(\w+)(?:%[-#+ 0,(]*\d*(?:\.\d+)?[a-zA-Z])?")


@dataclass(frozen=True)
class Item:
    """One piece of an argument: a string literal (s), a name (w), punctuation (x) or a bracket group (g)."""

    kind: str
    text: str
    args: tuple[tuple[Item, ...], ...] = ()  # a group's arguments


@dataclass(frozen=True)
class Message:
    level: str  # canonical (engine.logs.formats.record.LEVELS)
    text: str  # the format string, its value slots marked (train.msgrender.slot)
    lang: str  # c, java, scala, go, python: how its placeholders read


# ---------------------------------------------------------------- strings


def decode(literal: str, lang: str) -> str | None:
    """A literal's text: quotes and prefix gone, escapes decoded, interpolations as slots; None for a char."""
    quote = min(i for i in (literal.find('"'), literal.find("'"), literal.find("`")) if i >= 0)
    prefix, body = literal[:quote].lower(), literal[quote:]
    if body[0] == "'" and lang != "python":
        return None
    width = 3 if body[:3] in ('"""', "'''") else 1
    body = body[width:-width]
    if "r" not in prefix and literal[quote] != "`":  # r"…", raw"…" and Go's `…` are raw
        body = ESCAPE.sub(_unescape, body)
    body = CONTROL.sub(" ", body)
    if lang == "python" and "f" in prefix:
        body = F_FIELD.sub(lambda m: m.group()[0] if m.group(1) is None else slot(_field_name(m.group(1))), body)
    elif lang == "scala" and prefix in ("s", "f"):
        body = S_FIELD.sub(lambda m: "$" if m.group() == "$$" else slot(m.group(1) or m.group(2)), body)
    return body


def _unescape(m: re.Match[str]) -> str:
    code = m.group(1)
    if code[0] in "xu" and len(code) > 1:
        return chr(int(code[1:], 16))
    if code[0] in "01234567":
        return chr(int(code, 8))
    return " " if code in "ntrvfabe" else "" if code == "\n" else code


def _field_name(field: str) -> str:
    return re.split(r"![rsa]|:(?![:=])", field, maxsplit=1)[0].strip()


# ---------------------------------------------------------------- calls


def arguments(code: str, at: int, lang: str) -> tuple[tuple[tuple[Item, ...], ...], int] | None:
    """The arguments of the call whose "(" is just before `at`, and where its ")" ends; None if unbalanced."""
    stack: list[list[list[Item]]] = [[[]]]
    opens: list[str] = []
    for m in TOKEN[lang].finditer(code, at, min(len(code), at + MAX_CALL_CHARS)):
        kind = m.lastgroup
        if kind is None:
            continue
        if kind == "o":
            stack.append([[]])
            opens.append(m.group())
        elif kind == "c":
            args = tuple(tuple(arg) for arg in stack.pop())
            if not stack:
                return args, m.end()
            stack[-1][-1].append(Item("g", opens.pop(), args))
        elif kind == "k":
            stack[-1].append([])
        else:
            stack[-1][-1].append(Item(kind, m.group()))
    return None


def message_of(arg: tuple[Item, ...], lang: str) -> str | None:
    """The message an argument states, None if it is no string (in "+" languages: a piece of it is one)."""
    if lang == "c":
        return literal_of(arg, lang)
    parts: list[list[Item]] = [[]]
    for item in arg:
        if item.kind == "x" and item.text == "+":
            parts.append([])
        else:
            parts[-1].append(item)
    texts = [literal_of(tuple(part), lang) for part in parts]
    if all(text is None for text in texts):
        return None
    return "".join(slot(_hint(part)) if text is None else text for part, text in zip(parts, texts, strict=True))


def literal_of(items: tuple[Item, ...], lang: str) -> str | None:
    """Adjacent literals (C: with macros between) at the start of `items`, or a wrapper's or a group's message."""
    if not items:
        return None
    first, group = items[0], items[1] if len(items) > 1 else None
    opens = first.kind == "w" and first.text in WRAPPERS and group is not None and group.kind == "g"
    if opens or (first.kind == "g" and first.text == "("):
        for inner in (group if opens else first).args:  # type: ignore[union-attr] - group is set when opens
            if (found := message_of(inner, lang)) is not None:
                return found
        return None
    out: list[str] = []
    strings = 0
    for at, item in enumerate(items):
        if item.kind == "s" and (text := decode(item.text, lang)) is not None:
            out.append(text)
            strings += 1
        elif lang == "c" and item.kind == "w" and (pri := PRI.match(item.text)) and OPEN_PERCENT.search("".join(out)):
            out.append("ll" + (pri.group(1) or "u"))  # "%" PRIu64 → %llu
        elif lang == "c" and item.kind == "w" and MACRO.match(item.text):
            continue  # KERN_ERR "…", APLOGNO(00123) "…"
        elif lang == "c" and item.kind == "g" and at > 0 and items[at - 1].kind == "w":
            continue
        else:
            break
    return "".join(out) if strings else None


def _hint(items: list[Item]) -> str:
    return " ".join(item.text.lower() for item in items if item.kind == "w")


def blank_comments(text: str, lang: str) -> str:
    return CODE[lang].sub(lambda m: m.group() if m.group("s") else " ", text)


def extract(text: str, lang: str) -> list[Message]:
    """Every logging call of a file's text that states both a message and a level, in order."""
    code = blank_comments(text, lang)
    found = []
    for call in CALLS[lang].finditer(code):
        start = code.index("(", call.end()) + 1
        parsed = arguments(code, start, lang)
        if parsed is None:
            continue
        args, end = parsed
        message = next((m for arg in args if (m := message_of(arg, lang)) is not None), None)
        if message is None:
            continue
        level = level_of_call(lang, call.group(), LITERAL[lang].sub(" ", code[start:end]))
        if level is not None:
            found.append(Message(level, message, lang))
    return found


# ---------------------------------------------------------------- trees


def source_files(root: Path) -> Iterator[tuple[Path, str]]:
    """(file, language) under `root` in a fixed order, test code, vendored code and hidden folders skipped."""
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d.lower() not in SKIP_DIRS)
        for name in sorted(files):
            lang = LANGUAGE_OF.get(os.path.splitext(name)[1])
            path = Path(folder, name)
            if lang and not TEST_FILE.search(name) and path.is_file() and path.stat().st_size <= MAX_FILE_BYTES:
                yield path, lang


def tree_messages(root: Path) -> list[Message]:
    """The distinct messages of a source tree, in the order first found."""
    seen: dict[Message, None] = {}
    for path, lang in source_files(root):
        for message in extract(path.read_text(encoding="utf-8", errors="replace"), lang):
            seen.setdefault(message, None)
    return list(seen)


def source_lines(root: Path, seed: int) -> list[tuple[str, str]]:
    """(level, line): each message of the tree rendered once (seeded), those with no letters or under 3 words
    dropped."""
    rng = random.Random(seed)
    lines = []
    for message in tree_messages(root):
        line = render(message.text, message.lang, message.level, rng)
        if re.search(r"[A-Za-z]", line) and len(line.split()) >= 3:
            lines.append((message.level, line))
    return lines


def source_examples(root: Path, seed: int) -> list[Example]:
    """A tree's (tag, template) examples, deduplicated: its lines mined by one TemplateMiner as the knowledge
    base's examples are (train.linelm.knowledge_examples)."""
    miner = TemplateMiner()
    found = set()
    for level, line in source_lines(root, seed):
        found.add((tag_of(level), miner.template(miner.add(line)) or line))
    return sorted(found)
