"""A logging call's format string rendered into a plausible concrete line, each placeholder a sampled value.

Placeholders: printf conversions (%d %lu %08lx %.*s %c %p, the kernel's %pI4 %pM %pe …, glibc's %m), Go's
verbs (%v %+v %q %w %T %t), slf4j's and Python's {} and {name}, Python's %(name)s, and the value slots
train.msgstrings marks where a message concatenates or interpolates an expression (`slot`). A value has the
shape its conversion and its context ask for: a number, hex, an IP, a path, a UUID, a user, an error text, or
a short lower-case word, chosen by the slot's name or the word before it. Everything is drawn from the
caller's `random.Random`, so a seed gives the same lines every time.

What this leaves out: the call's actual arguments (never read: a value's shape is only guessed).
"""

from __future__ import annotations

import random
import re
import string
import uuid

SLOT = re.compile(r"\x00([^\x00\x01]*)\x01")
PRINTF = (r"%(?:\d+\$)?(?P<flags>[-+ #0']*)(?P<width>\d+|\*)?(?:\.(?P<prec>\d+|\*))?(?:hh|h|ll|l|L|q|j|z|Z|t|I64|I32)?"
          r"(?P<conv>{kernel}[diouxXeEfFgGaAcsSpnmvqwtTbU%])")  # fmt: skip
# C: the kernel's %p extensions, and nginx's own conversions (%V a string, %O %T %M sizes and times, %ui %xi)
KERNEL = r"p(?:I[46]|i[46]|OF|ad|ap|[MmUeSsBKdDVgRr])(?![A-Za-z])|[uxX]?[iOTMLDAPVz]|"
NGINX = {"V": "s", "O": "d", "T": "d", "M": "d", "L": "d", "D": "d", "A": "d", "P": "d", "z": "d"}
PY_NAMED = r"%\((?P<name>\w+)\)[-+ #0]*\d*(?:\.\d+)?(?P<pconv>[diouxXeEfFgGcrsa])"
BRACES = r"\{(?P<field>[\w.\[\]'\"]*)(?:![rsa])?(?::(?P<spec>[^{}]*))?\}"
PATTERNS = {
    "c": re.compile(rf"{SLOT.pattern}|{PRINTF.format(kernel=KERNEL)}"),
    "go": re.compile(rf"{SLOT.pattern}|{PRINTF.format(kernel='')}"),
    "java": re.compile(rf"{SLOT.pattern}|{BRACES}|{PRINTF.format(kernel='')}"),
    "python": re.compile(rf"{SLOT.pattern}|{PY_NAMED}|{BRACES}|{PRINTF.format(kernel='')}"),
}
PATTERNS["scala"] = PATTERNS["java"]

WORDS = ("alpha", "beta", "main", "default", "primary", "backup", "worker", "scheduler", "cache", "storage",
         "backend", "frontend", "eth0", "eth1", "lo", "br0", "sda", "vdb", "nvme0n1", "db", "web", "api",
         "session", "pool", "queue", "shard", "replica", "cluster", "local", "public", "internal", "system",
         "guest", "data", "mirror", "stream", "channel", "router", "gateway", "tunnel", "bridge", "mgmt",
         "control", "events", "metrics", "sync", "index", "ledger", "journal", "archive", "upstream", "proxy",
         "tcp", "udp", "http", "tls", "rsa", "sha256", "ext4", "xfs", "v2", "blue", "green", "north", "east")  # fmt: skip
USERS = ("alice", "bob", "root", "admin", "www-data", "postgres", "nobody", "deploy", "jenkins", "git", "carol")
ERRORS = ("No such file or directory", "Permission denied", "Connection refused", "Connection reset by peer",
          "Connection timed out", "Resource temporarily unavailable", "Cannot allocate memory", "Invalid argument",
          "Broken pipe", "No space left on device", "Device or resource busy", "Input/output error",
          "i/o timeout", "context deadline exceeded", "unexpected EOF", "Operation not permitted")  # fmt: skip
KERNEL_ERRORS = ("-ENOMEM", "-EINVAL", "-EIO", "-ENODEV", "-ETIMEDOUT", "-EBUSY", "-EPROBE_DEFER", "-ENOENT")
SHAPES = tuple((re.compile(pattern), shape) for pattern, shape in (
    (r"uuid", "uuid"),
    (r"\berr(?:or|no|msg|str)?\b|\bexc(?:eption)?\b|\be\b|\bex\b|reason|strerror|getmessage|\bcause\b", "error"),
    (r"url|uri|endpoint|https?\b", "url"),
    (r"\bip\b|addr|address|\bhost|peer|client|remote|\bfrom\b|nameserver|gateway|\bserver\b", "ip"),
    (r"path|file|\bdir|directory|folder|socket|\bconf|mount|\bopen|\bunlink|\bexec|\bcwd\b|\.so\b|module", "path"),
    (r"user|login|owner|account", "user"),
    (r"port|\bpid|\buid|\bgid|\bfd\b|count|size|\blen|length|\bnum|number|bytes|seconds|\bsecs?\b|\bms\b|timeout|"
     r"\bid\b|_id\b|\bcode|\bline\b|index|offset|retr(?:y|ies)|attempts?|limit|^[nijk]$|epoch|generation|partition|version|\bterm\b|\bseq", "number"),
))  # fmt: skip
SEVERE = {"WARN", "ERROR", "CRITICAL"}
UNIT = re.compile(r"\s*(?:%|(?:ms|s|secs?|seconds|minutes|hours|bytes|[kmg]i?b|times|tries|attempts|entries|items|"
                  r"records|rows|workers|threads|files|messages|requests)\b)", re.IGNORECASE)


def slot(hint: str) -> str:
    """A value slot in a message: an expression the message holds (its words are the hint of its shape)."""
    return f"\x00{hint}\x01"


def render(text: str, lang: str, level: str, rng: random.Random) -> str:
    """`text` with each placeholder replaced by a value, whitespace collapsed."""

    def value(m: re.Match[str]) -> str:
        before, after = text[: m.start()], text[m.end() :]
        groups = m.groupdict()
        if m.group(1) is not None:  # a slot
            return fill("s", m.group(1), before, after, level, rng)
        if groups.get("name") is not None:  # %(name)s
            return fill(groups["pconv"], groups["name"], before, after, level, rng)
        if groups.get("field") is not None:  # {} {name} {0:.2f}
            spec = (groups.get("spec") or "s")[-1:]
            conv = spec if spec in "dfxeg" else "s"
            return fill(conv, "" if groups["field"].isdigit() else groups["field"], before, after, level, rng)
        conv, flags, width, prec = m.group("conv"), m.group("flags"), m.group("width"), m.group("prec")
        return fill(conv, "", before, after, level, rng, flags=flags, width=width, prec=prec)

    return " ".join(PATTERNS[lang].sub(value, text).split())


def shape_of(hint: str, before: str, after: str, level: str) -> str:
    """The shape of a string value: its name says it, else the word before it, else a unit after it (a number),
    else an error text where an error line ends with ": %s", else a word."""
    words = re.findall(r"[A-Za-z_][\w.]*", SLOT.sub(" ", before))
    hint = hint.lower()
    for context in (hint.rpartition(".")[2], hint, " ".join(words[-1:]).lower()):
        for pattern, shape in SHAPES:
            if context and pattern.search(context):
                return shape
    if UNIT.match(after):
        return "number"
    if not re.search(r"\w", SLOT.sub("", after)) and before.rstrip().endswith(":") and level in SEVERE:
        return "error"
    return "word"


def fill(
    conv: str, hint: str, before: str, after: str, level: str, rng: random.Random,
    *, flags: str = "", width: str | None = None, prec: str | None = None,
) -> str:  # fmt: skip
    """One value for a conversion (printf's letter, or p + the kernel's extension)."""
    if len(conv) == 2 and conv[0] in "uxX":  # nginx: %ui, %xi
        conv = "x" if conv[0] in "xX" else "u"
    conv = NGINX.get(conv, conv)
    if conv in "diu":
        return str(number(hint or " ".join(before.split()[-1:]), rng))
    if conv in "xX":
        digits = int(width) if width and width.isdigit() else rng.choice((2, 4, 8, 8, 12))
        text = f"{rng.getrandbits(4 * digits):0{digits}x}"
        return ("0x" if "#" in flags else "") + (text.upper() if conv == "X" else text)
    if conv in "eEfFgGaA":
        places = int(prec) if prec and prec.isdigit() else 2
        return f"{rng.uniform(0, 500):.{min(places, 6)}f}"
    if conv in "%n":
        return "%" if conv == "%" else ""
    if conv in "mw":
        return rng.choice(ERRORS)
    simple = {"o": lambda: f"{rng.randrange(0o1000):o}", "c": lambda: rng.choice(string.ascii_lowercase),
              "t": lambda: rng.choice(("true", "false")), "T": lambda: rng.choice(("*net.OpError", "string", "int64")),
              "b": lambda: f"{rng.getrandbits(8):b}", "p": lambda: f"0x{rng.getrandbits(44) | 1 << 44:x}"}  # fmt: skip
    if conv in simple:
        return simple[conv]()
    if conv.startswith("p"):
        return kernel_value(conv[1:], rng)
    text = shaped(shape_of(hint, before, after, level), rng)
    return {"q": f'"{text}"', "r": f"'{text}'"}.get(conv, text)


def number(hint: str, rng: random.Random) -> int:
    hint = hint.lower()
    if "port" in hint:
        return rng.randint(1024, 65535)
    if re.search(r"pid|uid|gid", hint):
        return rng.randint(100, 40000)
    return rng.choice((rng.randint(0, 9), rng.randint(10, 999), rng.randint(1000, 99999)))


def shaped(shape: str, rng: random.Random) -> str:
    word = rng.choice(WORDS)
    if shape == "number":
        return str(number("", rng))
    if shape == "ip":
        return ip(rng)
    if shape == "path":
        return rng.choice((f"/etc/{word}.conf", f"/var/lib/{word}/{rng.choice(WORDS)}", f"/run/{word}.pid",
                           f"/tmp/{word}-{rng.randint(1, 9999)}", f"/var/log/{word}.log", f"/usr/lib/{word}.so",
                           f"/home/{rng.choice(USERS)}/{word}", f"/dev/{rng.choice(('sda1', 'vdb', 'ttyS0'))}"))  # fmt: skip
    if shape == "uuid":
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))
    if shape == "user":
        return rng.choice(USERS)
    if shape == "error":
        return rng.choice(ERRORS)
    if shape == "url":
        return f"http://{ip(rng)}:{rng.randint(1024, 65535)}/{word}"
    return word if rng.random() < 0.8 else f"{word}-{rng.randint(1, 12)}"


def ip(rng: random.Random) -> str:
    first = rng.choice(("10.{}.{}", "192.168.{}", "172.{}.{}", "203.0.{}"))
    parts = [str(rng.randint(16, 31) if first.startswith("172") and i == 0 else rng.randint(0, 254)) for i in range(2)]
    return first.format(*parts) + f".{rng.randint(1, 254)}"


def kernel_value(ext: str, rng: random.Random) -> str:
    """The kernel's printk pointer extensions: %pI4, %pM, %pe, %pS …"""
    if ext in ("I4", "i4"):
        return ip(rng)
    if ext in ("I6", "i6"):
        return f"fe80::{rng.getrandbits(16):x}:{rng.getrandbits(16):x}"
    if ext in ("M", "m"):
        return ":".join(f"{rng.getrandbits(8):02x}" for _ in range(6))
    if ext == "U":
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))
    if ext == "e":
        return rng.choice(KERNEL_ERRORS)
    if ext in ("S", "s", "B"):
        return f"{rng.choice(WORDS)}_{rng.choice(WORDS)}+0x{rng.getrandbits(8):x}/0x{rng.getrandbits(10):x}"
    if ext == "OF":
        return f"/soc/{rng.choice(WORDS)}@{rng.getrandbits(28):x}"
    if ext in ("R", "r"):
        start = rng.getrandbits(20) << 12
        return f"[mem {start:#010x}-{start + 0xFFF:#010x}]"
    if ext in ("d", "D", "g", "V"):
        return rng.choice(WORDS)
    return f"0x{rng.getrandbits(44) | 1 << 44:x}"
