"""Synthetic windows with made-up vocabularies, and incidents drawn from the knowledge base.

The fixed-template traffic of train.synth.incidents can be learned by heart: a model
trained mostly on it writes the templates it remembers instead of the ones in
front of it, which is what held-out systems showed. Here every window invents
its own programs, message templates and words, so the only way to write the
analyst's reply is to copy from the chunk and its digest. Incidents come from
the knowledge base itself: a signature's example line, its numbers redrawn,
so that the model sees every signature's explanation and remedies, not only
those of the hand-written incident kinds. Everything is drawn from a seeded
`random.Random`.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Callable
from datetime import datetime

from engine.analysis.knowledge import Signature
from engine.logs.formats import detect_format
from train.synth.background import STYLES, Clock

COMMON = (  # words that log messages are made of, mixed with made-up ones
    "connection", "request", "session", "worker", "thread", "client", "server", "service", "task", "job", "queue",
    "cache", "block", "file", "node", "host", "started", "stopped", "finished", "completed", "received", "sent",
    "opened", "closed", "created", "deleted", "updated", "loaded", "saved", "read", "write", "checking",
    "registered", "starting", "shutting", "down", "ready", "accepted", "using", "waiting", "for", "from", "to",
    "with", "on", "in", "at", "of", "by", "handler", "manager", "scheduler", "executor", "channel", "stream",
    "buffer", "record", "entry", "update", "sync", "flush", "commit", "batch", "index", "replica", "shard",
    "partition", "lease", "token", "user", "group", "config", "module", "plugin", "driver", "device", "interface",
    "port", "address",
)  # fmt: skip
LEVEL_WEIGHTS = {"INFO": 70, "DEBUG": 15, "WARN": 10, "ERROR": 5}
SEVERITY_LEVEL = {"critical": "CRITICAL", "error": "ERROR", "warning": "WARN"}
IPV4 = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b")
NUMBER = re.compile(r"(?<![\w.])\d+(?![\w.])")  # a number on its own, not part of a name, version or address


def made_up_word(rng: random.Random) -> str:
    """A pronounceable nonsense word: two to four consonant-vowel syllables."""
    return "".join(rng.choice("bcdfghklmnprstvz") + rng.choice("aeiou") for _ in range(rng.randint(2, 4)))


def word(rng: random.Random) -> str:
    return rng.choice(COMMON) if rng.random() < 0.5 else made_up_word(rng)


def identifier(rng: random.Random) -> str:
    """A program, class or component name in one of the shapes logs use."""
    parts = [made_up_word(rng) for _ in range(rng.randint(1, 3))]
    shape = rng.randrange(4)
    if shape == 0:
        return "-".join(parts)
    if shape == 1:
        return "".join(p.capitalize() for p in parts)
    if shape == 2:
        return "_".join(parts)
    return ".".join([*parts[:-1], parts[-1].capitalize()])


def _private_ip(rng: random.Random) -> str:
    return f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def _hex(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.hexdigits[:16]) for _ in range(n))


PARAMS: tuple[Callable[[random.Random], str], ...] = (
    lambda r: str(r.randint(0, 10 ** r.randint(1, 7))),
    lambda r: f"{r.uniform(0, 1000):.{r.randint(1, 3)}f}",
    lambda r: f"0x{_hex(r, r.choice((4, 8, 16)))}",
    _private_ip,
    lambda r: f"{_private_ip(r)}:{r.randint(1024, 65535)}",
    lambda r: "/" + "/".join(made_up_word(r) for _ in range(r.randint(1, 4))),
    lambda r: f"{_hex(r, 8)}-{_hex(r, 4)}-{_hex(r, 4)}-{_hex(r, 4)}-{_hex(r, 12)}",
    lambda r: f"{r.randint(1, 5000)}{r.choice(('ms', 's', 'us'))}",
    lambda r: f"{r.randint(1, 999)}{r.choice(('KB', 'MB', 'GB', 'B'))}",
    lambda r: f"{made_up_word(r)}-{r.randint(1, 99)}",
)


def make_template(rng: random.Random) -> Callable[[random.Random], str]:
    """A message template: fixed words with parameter slots that are redrawn for every line."""
    parts: list[str | Callable[[random.Random], str]] = [word(rng).capitalize()]
    for _ in range(rng.randint(2, 9)):
        if rng.random() < 0.3:
            param = rng.choice(PARAMS)
            parts.append((word(rng) + "=") if rng.random() < 0.3 else "")
            parts.append(param)
        else:
            parts.append(word(rng))
    if rng.random() < 0.3:
        parts.insert(0, f"[{identifier(rng)}]")

    def render(r: random.Random) -> str:
        out: list[str] = []
        for part in parts:
            text = part(r) if callable(part) else part
            if out and out[-1].endswith("="):
                out[-1] += text
            elif text:
                out.append(text)
        return " ".join(out)

    return render


def redraw_numbers(text: str, rng: random.Random) -> str:
    """IPv4 addresses and free-standing numbers redrawn (same length, no new leading zero); names keep theirs."""

    def number(m: re.Match[str]) -> str:
        n = len(m.group())
        first = rng.choice("123456789") if n > 1 else rng.choice(string.digits)
        return first + "".join(rng.choice(string.digits) for _ in range(n - 1))

    text = IPV4.sub(lambda _: _private_ip(rng), text)
    return NUMBER.sub(number, text)


def signature_message(signature: Signature, rng: random.Random) -> str:
    """The message of the signature's example line, its numbers redrawn when the signature still matches."""
    line = signature.example
    record = detect_format([line]).format.parse(line, 1)
    message = record.message if record is not None and signature.matches(record.message) else line
    redrawn = redraw_numbers(message, rng)
    return redrawn if signature.matches(redrawn) else message


def random_window(
    rng: random.Random, style: str, n_lines: int, signature: Signature | None, *, start: datetime | None = None
) -> list[str]:
    """`n_lines` of made-up traffic in `style`, with 1-4 lines of `signature`'s example (if any) injected."""
    clock = Clock(start or datetime(2024, rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23)), rng)
    host = identifier(rng) if rng.random() < 0.5 else f"{made_up_word(rng)}-{rng.randint(1, 20)}"
    programs = [identifier(rng) for _ in range(rng.randint(1, 5))]
    templates = [
        (rng.choice(programs), rng.choices(list(LEVEL_WEIGHTS), list(LEVEL_WEIGHTS.values()))[0], make_template(rng))
        for _ in range(rng.randint(2, 12))
    ]
    weights = [rng.random() ** 2 + 0.01 for _ in templates]
    events = []
    for _ in range(n_lines):
        program, level, render = rng.choices(templates, weights)[0]
        events.append((program, level, render(rng)))
    if signature is not None:
        # A signature that belongs to some programs is written by one of them (elsewhere it would not fire).
        program = signature.programs[0] if signature.programs else rng.choice(programs)
        level = SEVERITY_LEVEL.get(signature.severity, "ERROR")
        burst = [(program, level, signature_message(signature, rng)) for _ in range(rng.randint(1, 4))]
        at = rng.randint(0, max(0, n_lines - len(burst)))
        events[at : at + len(burst)] = burst
    write = STYLES[style]
    pids = {p: rng.randint(200, 60000) for p in programs}
    return [write(clock, host, program, level, message, pids.get(program)) for program, level, message in events]
