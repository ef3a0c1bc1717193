"""Issue 32's hostile cases, second round, tried end to end through the real commands (opt-in, not a pytest module).

    python -m tests.reliability.sweep_second_round [--only SUBSTRING] [--list]

Every case runs `logpt` or `logpt-tui` as a subprocess (the explorer's export through a tmux pane), one at a time,
in a sandbox under /tmp (HOME, XDG dirs and LOGPT_MODELS point into it), and prints one row: case, command, exit
code, wall seconds, peak RSS, verdict. The verdict holds the issue's targets: the case ends within its limit, with a
one-line error (or a usage panel for an option out of range) or a correct result, no traceback, no raw escape
bytes in what it printed, no change to files the user did not name, peak memory at most 1 GB. Big files are sparse
and the sandbox is removed at the end; a redis-server of its own (no persistence) runs for the service cases.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from engine.stream import tagged

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
LOGPT, LOGPT_TUI = str(BIN / "logpt"), str(BIN / "logpt-tui")
MEMORY_LIMIT_KB = 1 << 20  # 1 GiB
RAW = ("\x1b", "\x07", "\x9b", "\x9d", "\u202e", "\u202d", "\u2066", "\u2067", "\u2068", "\u2069", "\u200b")
PAYLOADS = {  # what a hostile name carries
    "osc52": "\x1b]52;c;cm0gLXJmIH4=\x07",
    "title": "\x1b]0;pwned\x07",
    "clear": "\x1b[2J\x1b[H",
    "rlo": "\u202egol.exe",
}
SLOW = r"^(?P<message>(a|aa)+)$"  # about 0.6 s a line on 31 a's and a b: under the 1 s per-line limit


@dataclass
class Case:
    name: str
    argv: list[str] | str  # a str runs in bash (a pipeline)
    timeout: float = 60
    want: str = "error"  # error: a one-line error; ok: exit 0; either: one of them
    watch: list[Path] = field(default_factory=list)  # what must not change
    check: Callable[[int, str, str], str | None] | None = None  # a further check: None or what is wrong
    env: dict[str, str] = field(default_factory=dict)
    stop_after: float | None = None  # send SIGTERM after this many seconds (a follower that never ends)
    during: Callable[[], None] | None = None  # run this once the process has started (after `during_at` s)
    during_at: float = 3.0
    tui: Callable[[Case], tuple[int, str, str, float, int]] | None = None  # a tmux-driven case
    prepare: Callable[[], None] | None = None  # set the scene just before the case runs


@dataclass
class Row:
    name: str
    command: str
    code: int | None
    seconds: float
    rss_kb: int
    verdict: str
    tail: str = ""


# ---------------------------------------------------------------------------------------------------- sandbox


class Sandbox:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="logpt-sweep2-"))
        self.home = self.root / "home"
        self.config = self.home / ".config"
        for d in (self.home, self.config, self.home / ".local/share", self.home / ".cache", self.root / "models"):
            d.mkdir(parents=True, exist_ok=True)
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")},
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.config),
            "XDG_DATA_HOME": str(self.home / ".local/share"),
            "XDG_CACHE_HOME": str(self.home / ".cache"),
            "LOGPT_MODELS": str(self.root / "models"),
            "COLUMNS": "400",
            "NO_COLOR": "1",
            "TERM": "dumb",
            "PYTHONPATH": str(ROOT),
            "CUDA_VISIBLE_DEVICES": "",
        }
        self.mounted: list[Path] = []

    def path(self, *parts: str) -> Path:
        p = self.root.joinpath(*parts)
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def cleanup(self) -> None:
        for m in self.mounted:
            subprocess.run(["umount", "-l", str(m)], capture_output=True)
        for p in self.root.rglob("*"):  # read-only folders made for a case
            with contextlib.suppress(OSError):
                if p.is_dir() and not p.is_symlink():
                    p.chmod(0o755)
        shutil.rmtree(self.root, ignore_errors=True)


def fingerprint(path: Path) -> str:
    """What a file or folder holds (sparse giants by size only), or that it is missing."""
    if path.is_symlink():
        return f"link:{os.readlink(path)}"
    if not path.exists():
        return "missing"
    if path.is_dir():
        return "dir:" + ";".join(f"{p.relative_to(path)}={fingerprint(p)}" for p in sorted(path.iterdir()))
    if not path.is_file():
        return f"special:{path.stat().st_mode}"
    size = path.stat().st_size
    if size > 100 << 20:
        return f"big:{size}"
    return hashlib.sha256(path.read_bytes()).hexdigest()


def session_hwm(sid: int) -> int:
    """The largest peak RSS (kB) of the live processes of session `sid`."""
    best = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[3]) != sid:
                continue
            for line in Path(f"/proc/{entry.name}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    best = max(best, int(line.split()[1]))
        except (OSError, ValueError, IndexError):
            continue
    return best


def error_shape(out: str, err: str) -> str | None:
    """None when the output ends in a one-line error (or an option's usage panel), else what it ends in."""
    lines = [line.strip() for line in err.splitlines() if line.strip()]
    if not lines:
        lines = [line.strip() for line in out.splitlines() if line.strip()]
    if not lines:
        return "no message"
    if "╭─ Error" in err and lines[-1].startswith("╰"):
        return None
    if any(line.lower().startswith(("error", "logpt: error")) for line in lines[-2:]):
        return None
    return f"ends: {lines[-1][:80]!r}"


def verdict_of(case: Case, code: int | None, out: str, err: str, seconds: float, rss: int,
               before: dict[Path, str]) -> str:  # fmt: skip
    problems: list[str] = []
    if code is None:
        problems.append(f"TIMEOUT>{case.timeout:.0f}s")
    if "Traceback" in out + err:
        problems.append("traceback")
    raw = sorted({repr(c) for c in RAW if c in out + err})
    if raw:
        problems.append("raw " + ",".join(raw))
    changed = [p.name for p, fp in before.items() if fingerprint(p) != fp]
    if changed:
        problems.append("changed " + ",".join(repr(c)[:40] for c in changed))
    if rss > MEMORY_LIMIT_KB:
        problems.append(f"rss {rss / 1024:.0f}MB")
    if code is not None and case.stop_after is None:
        if code == 0 and case.want == "error":
            problems.append("accepted (exit 0)")
        elif code != 0 and case.want == "ok":
            problems.append(f"failed (exit {code})")
        if code != 0 and code not in (130, 143):
            shape = error_shape(out, err)
            if shape:
                problems.append(shape)
    if case.check is not None and code is not None:
        with contextlib.suppress(Exception):
            note = case.check(code, out, err)
            if note:
                problems.append(note)
    return "FAIL: " + "; ".join(problems) if problems else "ok"


def run_case(box: Sandbox, case: Case) -> Row:
    if case.prepare is not None:
        case.prepare()
    before = {p: fingerprint(p) for p in case.watch}
    env = {**box.env, **case.env}
    if case.tui is not None:
        code, out, err, seconds, rss = case.tui(case)
        command = "tmux: " + (case.argv if isinstance(case.argv, str) else shlex.join(case.argv))
    else:
        timefile = box.path("time.out")
        timefile.unlink(missing_ok=True)
        if isinstance(case.argv, str):
            argv = ["bash", "-c", case.argv.replace("TIME ", f"/usr/bin/time -f %M -o {timefile} ")]
            command = case.argv.replace("TIME ", "")
        else:
            argv = ["/usr/bin/time", "-f", "%M", "-o", str(timefile), *case.argv]
            command = shlex.join(case.argv)
        t0 = time.monotonic()
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                env=env, cwd=box.root, start_new_session=True)  # fmt: skip
        outf: list[bytes] = []
        errf: list[bytes] = []
        import threading

        readers = [threading.Thread(target=lambda s=s, b=b: b.append(s.read()), daemon=True)
                   for s, b in ((proc.stdout, outf), (proc.stderr, errf))]  # fmt: skip
        for r in readers:
            r.start()
        rss, code, termed, during_done = 0, None, False, case.during is None
        while True:
            rss = max(rss, session_hwm(proc.pid))
            elapsed = time.monotonic() - t0
            if proc.poll() is not None:
                code = proc.returncode
                break
            if not during_done and elapsed >= case.during_at:
                during_done = True
                try:
                    case.during()  # type: ignore[misc]
                except Exception as e:  # noqa: BLE001 - the sweep records it
                    errf.append(f"\n[sweep: during failed: {e}]".encode())
            if case.stop_after is not None and elapsed >= case.stop_after and not termed:
                termed = True
                with contextlib.suppress(ProcessLookupError):
                    for p in _session_pids(proc.pid):
                        if p != proc.pid:  # the command, not /usr/bin/time
                            os.kill(p, signal.SIGTERM)
            if elapsed > case.timeout:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                break
            time.sleep(0.1)
        seconds = time.monotonic() - t0
        for r in readers:
            r.join(5)
        out = b"".join(outf).decode("utf-8", "replace")
        err = b"".join(errf).decode("utf-8", "replace")
        with contextlib.suppress(OSError, ValueError, IndexError):
            rss = max(rss, int(timefile.read_text().split()[-1]))
        if code is not None and "Command terminated by signal" in (timefile.read_text() if timefile.exists() else ""):
            code = -1
    verdict = verdict_of(case, code, out, err, seconds, rss, before)
    tail = "\n".join([line for line in (out + "\n" + err).splitlines() if line.strip()][-4:])
    return Row(case.name, command, code, seconds, rss, verdict, tail)


def _session_pids(sid: int) -> list[int]:
    pids = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                stat = Path(f"/proc/{entry.name}/stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[3]) == sid:
                    pids.append(int(entry.name))
    return pids


# ---------------------------------------------------------------------------------------------------- tmux


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, timeout=10).stdout


class Explorer:
    """logpt-tui in a detached tmux session of its own (killed by name at the end, never the server)."""

    def __init__(self, box: Sandbox, args: list[str], env: dict[str, str] | None = None) -> None:
        self.box = box
        self.session = f"logpt-sweep2-{os.getpid()}-{time.monotonic_ns() % 10**9}"
        self.timefile, self.rcfile, self.errfile = box.path("tui.time"), box.path("tui.rc"), box.path("tui.err")
        for f in (self.timefile, self.rcfile, self.errfile):
            f.unlink(missing_ok=True)
        variables = {**box.env, "TERM": "xterm-256color", **(env or {})}
        variables.pop("COLUMNS", None)
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in variables.items()
                           if k in ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "LOGPT_MODELS",
                                    "TERM", "PATH", "PYTHONPATH", "CUDA_VISIBLE_DEVICES"))  # fmt: skip
        inner = (f"cd {shlex.quote(str(box.root))} && env -u COLUMNS -u LINES {exports} /usr/bin/time -f %M "
                 f"-o {shlex.quote(str(self.timefile))} {LOGPT_TUI} {shlex.join(args)}"
                 f"; echo $? > {shlex.quote(str(self.rcfile))}")  # fmt: skip
        self.command = shlex.join([LOGPT_TUI, *args])
        self.t0 = time.monotonic()
        tmux("new-session", "-d", "-s", self.session, "-x", "120", "-y", "30", "bash", "-c", inner + "; sleep 30")

    def screen(self) -> str:
        return tmux("capture-pane", "-t", self.session, "-p")

    def keys(self, *keys: str) -> None:
        tmux("send-keys", "-t", self.session, *keys)

    def type(self, text: str) -> None:
        tmux("send-keys", "-t", self.session, "-l", text)

    def wait_for(self, text: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.screen() or self.rcfile.exists():
                return text in self.screen()
            time.sleep(0.2)
        return False

    def finish(self, timeout: float) -> tuple[int | None, str, float, int]:
        """q until it exits; its exit code (None: it would not), stderr, seconds, peak RSS."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.rcfile.exists():
            self.keys("q")
            time.sleep(0.5)
        code = int(self.rcfile.read_text().strip() or -1) if self.rcfile.exists() else None
        seconds = time.monotonic() - self.t0
        rss = 0
        with contextlib.suppress(OSError, ValueError, IndexError):
            rss = int(self.timefile.read_text().split()[-1])
        err = self.errfile.read_text(errors="replace") if self.errfile.exists() else ""
        tmux("kill-session", "-t", self.session)
        return code, err, seconds, rss


# ---------------------------------------------------------------------------------------------------- material


def syslog_text(n: int, seed: int = 0) -> str:
    from tests.engine.detect.test_pipeline import syslog

    return "\n".join(syslog(n, seed)) + "\n"


def word_log(prefix: str, n: int) -> str:
    """Lines whose templates are all different (distinct words, no numbers)."""
    import itertools
    import string

    words = ("".join(p) for p in itertools.product(string.ascii_lowercase, repeat=3))
    return "".join(f"2024-01-02 10:00:{i % 60:02d} INFO {prefix} {next(words)} {next(words)} done\n" for i in range(n))


class Material:
    """The models and folders the cases start from: small ones built by the test suite's own helpers."""

    def __init__(self, box: Sandbox) -> None:
        from tests import conftest

        self.box = box

        class Factory:
            def mktemp(self, name: str) -> Path:
                p = box.root / "material" / name
                p.mkdir(parents=True, exist_ok=True)
                return p

        self.tokdir = conftest.hf_tokenizer_dir.__wrapped__(Factory())
        self.vocab = conftest.vocab.__wrapped__(self.tokdir)
        self.bundle = conftest.make_bundle(box.root / "material" / "bundle", self.vocab, block_size=128)
        self.log = box.path("a.log")
        self.log.write_text(syslog_text(400))

    def bundle_copy(self, name: str) -> Path:
        target = self.box.root / "bundles" / name
        shutil.copytree(self.bundle, target)
        return target

    def edit_json(self, path: Path, change: Callable[[object], object]) -> None:
        data = json.loads(path.read_text())
        new = change(data)
        path.write_text(json.dumps(data if new is None else new))

    def detector(self, name: str) -> Path:
        from tests.engine.detect.test_pipeline import syslog
        from tests.engine.stream.test_serve import detector_for

        return detector_for(syslog(600), self.box.root / "detectors" / name)

    def hf_folder(self, name: str) -> Path:
        from tests.engine.lm.test_hf_parity import hf_model, save_hf

        n_vocab = max([*self.vocab[0].values(), *self.vocab[1].values()]) + 1
        return save_hf(hf_model(n_vocab), self.box.root / "hf" / name, self.tokdir, binary=False)

    def logpt_checkpoint(self, name: str) -> Path:
        from tests.engine.lm.test_logpt_import import write_logpt_checkpoint

        path = self.box.path("ckpt", name, "best_model.pth")
        n_base = max(self.vocab[0].values()) + 1
        write_logpt_checkpoint(path, n_base)
        return path

    def tokenizer_copy(self, name: str) -> Path:
        target = self.box.root / "tok" / name
        shutil.copytree(self.tokdir, target)
        return target


def sparse(path: Path, size: str = "3G") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    subprocess.run(["truncate", "-s", size, str(path)], check=True)
    return path


def to_dev_zero(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    path.symlink_to("/dev/zero")
    return path


def deep_json(path: Path) -> Path:
    path.write_text("[" * 100_000 + "]" * 100_000)
    return path


def deep_toml(path: Path) -> Path:
    path.write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n")
    return path


# ---------------------------------------------------------------------------------------------------- cases


def export_cases(box: Sandbox) -> list[Case]:
    log = box.path("export", "viewed.log")
    log.write_text(syslog_text(300))
    existing = box.path("export", "notes.txt")
    existing.write_text("my precious notes\n")
    link = box.path("export", "link-to-viewed.log")
    link.symlink_to(log)
    fifo = box.path("export", "pipe")
    os.mkfifo(fifo)

    def driven(target: Path, expect: str, *, then_enter: bool = False) -> Callable[[Case], tuple]:
        def drive(case: Case) -> tuple[int, str, str, float, int]:
            ex = Explorer(box, ["--no-model", "--no-flags", str(log)])
            notes = []
            if not ex.wait_for("300 lines", 30):
                notes.append("explorer did not show the log")
            time.sleep(2)
            for _ in range(3):  # X until the export prompt opens
                ex.keys("X")
                if ex.wait_for("▔ export", 5):
                    break
            else:
                notes.append("X never opened the export prompt")
            ex.keys("C-u")
            ex.type(str(target))
            time.sleep(0.3)
            ex.keys("Enter")
            if then_enter:  # asked: the prompt opens again (the question is its placeholder), nothing written yet
                time.sleep(2)
                seen = "▔ export" in ex.screen() and "exported" not in ex.screen()
            else:
                seen = ex.wait_for(expect, 10)
            screen = ex.screen()
            if then_enter and seen:  # asked: Esc keeps the file
                ex.keys("Escape")
            if not seen:
                notes.append(f"never showed {expect!r}")
            t_quit = time.monotonic()
            ex.keys("Escape")
            code, err, seconds, rss = ex.finish(20)
            if code is None:
                notes.append("q did not quit")
            elif time.monotonic() - t_quit > 10:
                notes.append("quit took over 10 s")
            if log.read_text() != syslog_text(300):
                notes.append("the viewed log changed")
            tail = "\n".join(line for line in screen.splitlines() if line.strip())[-300:]
            case.check = (lambda *_a, n=notes: "; ".join(n) or None)
            return code if code is not None else None, tail, err, seconds, rss  # type: ignore[return-value]

        return drive

    return [
        Case("export: X to an existing file", f"X → {existing.name}", 90, "either", [existing],
             tui=driven(existing, "exists", then_enter=True)),
        Case("export: X to the viewed log", f"X → {log.name}", 90, "either", [log], tui=driven(log, "cannot export")),
        Case("export: X to a link to the viewed log", f"X → {link.name}", 90, "either", [log],
             tui=driven(link, "cannot export")),
        Case("export: X to a FIFO", f"X → {fifo.name}", 90, "either", [log], tui=driven(fifo, "cannot export")),
    ]  # fmt: skip


def startup_cases(box: Sandbox, m: Material) -> list[Case]:
    cases = []
    for tag, payload in PAYLOADS.items():
        missing = f"nope{payload}.log"
        folder = box.path(f"dir{payload}{tag}", "x").parent
        folder.mkdir(exist_ok=True)
        fmt_file = box.path("formats", f"evil-{tag}.toml")
        fmt_file.write_text(f"[[format]]\nname = {json.dumps('bad' + payload)}\nregex = '(?P<message>(unclosed'\n")
        config = box.root / f"config-{tag}"
        (config / "logpt" / "formats").mkdir(parents=True, exist_ok=True)
        shutil.copy(fmt_file, config / "logpt" / "formats" / "evil.toml")
        cases += [
            Case(f"name {tag}: logpt-tui --merge missing file", [LOGPT_TUI, "--no-model", "--merge", str(m.log), missing], 30),
            Case(f"name {tag}: logpt-tui a folder", [LOGPT_TUI, "--no-model", "--no-flags", str(folder)], 30),
            Case(f"name {tag}: logpt-tui user format name", [LOGPT_TUI, "--no-model", "--no-flags", str(m.log)], 30,
                 env={"XDG_CONFIG_HOME": str(config)}),
            Case(f"name {tag}: logpt templates missing file", [LOGPT, "templates", missing], 30),
            Case(f"name {tag}: logpt detect a folder", [LOGPT, "detect", str(folder), "--no-line-model"], 30),
            Case(f"name {tag}: logpt templates --formats-file", [LOGPT, "templates", str(m.log), "--formats-file", str(fmt_file)], 30),
            Case(f"name {tag}: logpt templates user format dir", [LOGPT, "templates", str(m.log)], 30,
                 env={"XDG_CONFIG_HOME": str(config)}),
            Case(f"name {tag}: logpt templates --format NAME", [LOGPT, "templates", str(m.log), "--format", "fmt" + payload], 30),
        ]  # fmt: skip
    return cases


def state_cases(box: Sandbox, m: Material) -> list[Case]:
    folder = box.path("state", "adir", "keep.txt")
    folder.write_text("keep")
    folder = folder.parent
    notes = box.path("state", "notes.md")
    notes.write_text("# my notes\nnot a state\n")
    own_log = box.path("state", "own.log")
    own_log.write_text(syslog_text(200))
    shared = box.path("state", "shared.json")
    log_a, log_b = box.path("state", "alpha.log"), box.path("state", "beta.log")
    log_a.write_text(word_log("alpha", 3000))
    log_b.write_text(word_log("beta", 3000))
    lowered = box.path("state", "lowered.json")

    def both(code: int, out: str, err: str) -> str | None:
        text = shared.read_text() if shared.exists() else ""
        a, b = text.count("alpha"), text.count("beta")
        refused = "in use by another" in err  # one run locked out, said in one line: nothing lost silently
        if not refused and (a < 3000 or b < 3000):
            return f"state holds {a} alpha and {b} beta templates of 3000 each (one run's lost)"
        return None

    def lower(data: object) -> None:
        def walk(node: object) -> None:
            if isinstance(node, dict):
                for k in node:
                    if k == "next_id":
                        node[k] = 1
                    else:
                        walk(node[k])
            elif isinstance(node, list):
                for x in node:
                    walk(x)

        walk(data)

    def prepare_lowered() -> list[Path]:
        subprocess.run([LOGPT, "templates", str(m.log), "--state", str(lowered)], env=box.env, capture_output=True,
                       timeout=120)  # fmt: skip
        if lowered.exists():
            m.edit_json(lowered, lower)
        return [lowered]

    two = (f"TIME {LOGPT} templates {log_a} --state {shared} >/dev/null & "
           f"{LOGPT} templates {log_b} --state {shared} >/dev/null; wait")  # fmt: skip
    return [
        Case("--state a directory", [LOGPT, "templates", str(m.log), "--state", str(folder)], 60, watch=[folder]),
        Case("--state the log itself", [LOGPT, "templates", str(own_log), "--state", str(own_log)], 60, watch=[own_log]),
        Case("--state a notes file", [LOGPT, "templates", str(m.log), "--state", str(notes)], 60, watch=[notes]),
        Case("--state two concurrent runs", two, 150, "either", check=both),
        Case("--state a lowered next_id", [LOGPT, "templates", str(own_log), "--state", str(lowered)], 60,
             watch=prepare_lowered()),
    ]  # fmt: skip


def side_file_cases(box: Sandbox, m: Material) -> list[Case]:
    cases: list[Case] = []
    kinds: dict[str, Callable[[Path], Path]] = {"/dev/zero link": to_dev_zero, "3 GB sparse": sparse,
                                                "deep nesting": deep_json}  # fmt: skip
    ckpt = m.logpt_checkpoint("side")
    for label, make in kinds.items():
        key = {"/dev/zero link": "zero", "3 GB sparse": "sparse"}.get(label, "deep")
        fmt = box.path("side", key, "formats.toml")
        (deep_toml if make is deep_json else make)(fmt)
        state = box.path("side", key, "state.json")
        make(state)
        bundle = m.bundle_copy(f"config-{key}")
        make(bundle / "config.json")
        ranks = m.bundle_copy(f"ranks-{key}")
        (deep_json if make is deep_json else make)(ranks / "tokenizer.tiktoken")
        tok = m.tokenizer_copy(f"merges-{key}")
        make(tok / "merges.txt")
        vocab_tok = m.tokenizer_copy(f"vocab-{key}")
        make(vocab_tok / "vocab.json")
        ranks_file = box.path("side", key, "ranks.tiktoken")
        make(ranks_file)
        config = box.root / f"tuiconfig-{key}"
        make(box.path(f"tuiconfig-{key}", "logpt", "tui.json"))
        hf = m.hf_folder(f"side-{key}")
        make(hf / "config.json")
        det = m.detector(f"side-{key}")
        make(det / "config.json")
        out = str(box.root / "out" / f"side-{key}")
        cases += [
            Case(f"side {label}: --formats-file", [LOGPT, "templates", str(m.log), "--formats-file", str(fmt)], 60,
                 watch=[fmt]),
            Case(f"side {label}: --state", [LOGPT, "templates", str(m.log), "--state", str(state)], 60, watch=[state]),
            Case(f"side {label}: bundle config.json", [LOGPT, "generate", "-m", str(bundle), "-p", "hi",
                 "--max-tokens", "2", "--device", "cpu"], 60),
            Case(f"side {label}: bundle tokenizer ranks", [LOGPT, "generate", "-m", str(ranks), "-p", "hi",
                 "--max-tokens", "2", "--device", "cpu"], 60),
            Case(f"side {label}: merges.txt", [LOGPT, "import", "logpt", str(ckpt), out + "-m", "--tokenizer", str(tok)], 90),
            Case(f"side {label}: vocab.json", [LOGPT, "import", "logpt", str(ckpt), out + "-v", "--tokenizer", str(vocab_tok)], 90),
            Case(f"side {label}: --tokenizer ranks file", [LOGPT, "import", "logpt", str(ckpt), out + "-t", "--tokenizer",
                 str(ranks_file)], 90),
            Case(f"side {label}: HF config.json", [LOGPT, "import", "hf", str(hf), out + "-h"], 90),
            Case(f"side {label}: detector config.json", [LOGPT, "detect", str(m.log), "--detector", str(det),
                 "--no-line-model"], 90),
            Case(f"side {label}: tui.json", [LOGPT_TUI, "--no-model", "--no-flags", str(m.log)], 60, "either",
                 env={"XDG_CONFIG_HOME": str(config)}, tui=tui_starts(box, [str(m.log)], {"XDG_CONFIG_HOME": str(config)})),
        ]  # fmt: skip
    det = m.detector("miner-deep")
    deep_json(det / "miner.json")
    cases.append(Case("side deep nesting: detector miner.json", [LOGPT, "detect", str(m.log), "--detector", str(det),
                      "--no-line-model"], 90))  # fmt: skip
    return cases


def tui_starts(box: Sandbox, files: list[str], env: dict[str, str]) -> Callable[[Case], tuple]:
    """The explorer starts and shows the log (a bad settings file is ignored or named), then q quits."""

    def drive(case: Case) -> tuple[int | None, str, str, float, int]:
        ex = Explorer(box, ["--no-model", "--no-flags", *files], env)
        shown = ex.wait_for("400 lines", 45)
        screen = ex.screen()
        code, err, seconds, rss = ex.finish(20)
        if code not in (None, 0):  # an error at start: it must be one line
            return code, "", err, seconds, rss
        case.check = (lambda *_a: None if shown else "the log was never shown")
        return code, screen[-300:], err, seconds, rss

    return drive


def bomb_cases(box: Sandbox, m: Material, redis_url: str) -> list[Case]:
    nul = sparse(box.path("bombs", "nul.log"), "1900M")
    pth = box.path("bombs", "declares-2gib.pth")
    write_declaring_checkpoint(pth)
    dicts = box.path("bombs", "dicts.pth")
    with zipfile.ZipFile(dicts, "w") as z:  # 60 MB of EMPTY_DICT opcodes: a list of 60 million dicts unpickled
        z.writestr("archive/data.pkl", b"\x80\x02]q\x00(" + b"}" * 60_000_000 + b"e.")
    ranks = str(m.bundle / "tokenizer.tiktoken")
    big = "big-entries"

    def fill_big() -> None:
        import redis

        client = redis.Redis.from_url(redis_url)
        client.delete(big)
        blob = b"x" * (10 << 20)
        for i in range(60):
            client.xadd(big, {b"source": b"/var/log/big", b"offset": str(i).encode(), b"line": str(i + 1).encode(),
                              b"text": blob})  # fmt: skip

    det = m.detector("serve-big")
    return [
        Case("bomb: 1.9 GB NUL log → templates", [LOGPT, "templates", str(nul)], 150, "either"),
        Case("bomb: 1.9 GB NUL log → detect", [LOGPT, "detect", str(nul), "--no-line-model"], 150, "either"),
        Case("bomb: 1.9 GB NUL log → analyze", [LOGPT, "analyze", "-f", str(nul), "--engine", "analyst", "--all"], 150,
             "either"),
        Case("bomb: .pth declaring 2 GiB", [LOGPT, "import", "logpt", str(pth), str(box.root / "out" / "pth"),
             "--tokenizer", ranks], 90),
        Case("bomb: 60 MB pickle of empty dicts", [LOGPT, "import", "logpt", str(dicts), str(box.root / "out" / "dicts"),
             "--tokenizer", ranks], 90),
        Case("bomb: 3 GB line on stdin → ship -", f"yes | tr -d '\\n' | head -c 3G | TIME {LOGPT} ship - --redis "
             f"{redis_url} --stream yes3g --maxlen 100 --once", 150, "either"),
        Case("bomb: serve on 60 entries of 10 MB", [LOGPT, "serve", "--detector", str(det), "--redis", redis_url,
             "--stream", big, "--block-ms", "100"], 150, "either", stop_after=60, prepare=fill_big,
             check=lambda *_: pending_note(redis_url, big, "detect")),
    ]  # fmt: skip


def pending_note(url: str, stream: str, group: str) -> str | None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        pending = client.xpending(stream, group)["pending"]
    except redis.exceptions.ResponseError as e:
        return f"no group: {e}"
    done = client.xlen(tagged(stream) + ":dead") + len(client.keys(tagged(stream) + ":done:*"))
    return f"{pending} entries still pending, {done} handled" if pending else None


def write_declaring_checkpoint(path: Path) -> None:
    """A torch zip of 2 MB whose one tensor declares 2 GiB of float32 (the storage's size in the pickle)."""
    import io
    import pickle

    numel = 1 << 29

    class Storage:
        pass

    class Rebuild:
        def __reduce__(self):  # noqa: ANN204
            import collections

            import torch._utils

            return (torch._utils._rebuild_tensor_v2, (Storage(), 0, (numel,), (1,), False, collections.OrderedDict()))

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj: object) -> object:
            if isinstance(obj, Storage):
                import torch

                return ("storage", torch.FloatStorage, "0", "cpu", numel)
            return None

    buffer = io.BytesIO()
    Pickler(buffer, protocol=2).dump({"model": {"transformer.wte.weight": Rebuild()}})
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", buffer.getvalue())
        z.writestr("archive/data/0", bytes(2 << 20))
        z.writestr("archive/version", "3\n")


def regex_cases(box: Sandbox) -> list[Case]:
    fmt = box.path("regex", "slow.toml")
    fmt.write_text(f"[[format]]\nname = 'slow'\nregex = '{SLOW}'\n")
    log = box.path("regex", "aaa.log")
    log.write_text(("a" * 31 + "b\n") * 500)
    return [
        Case("regex: (a|aa)+ format → templates", [LOGPT, "templates", str(log), "--formats-file", str(fmt), "--format",
             "slow"], 150, "either"),
        Case("regex: (a|aa)+ format → detect --session", [LOGPT, "detect", str(log), "--formats-file", str(fmt),
             "--format", "slow", "--session", r"(a|aa)+$", "--self-train", "--epochs", "1", "--no-line-model"], 150,
             "either"),
        Case("regex: detect --session (a|aa)+$ on a plain log", [LOGPT, "detect", str(log), "--session",
             r"^(a|aa)+$", "--self-train", "--epochs", "1", "--no-line-model"], 150, "either"),
    ]  # fmt: skip


def full_disk(box: Sandbox) -> tuple[Path, str]:
    """A tmpfs of 2 MB, filled (or a read-only folder where mounting is not allowed)."""
    target = box.root / "full"
    target.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(target)], capture_output=True)
    if done.returncode == 0:
        box.mounted.append(target)
        subprocess.run(["dd", "if=/dev/zero", f"of={target / 'filler'}", "bs=64k"], capture_output=True)
        return target, "full tmpfs"
    target.chmod(0o555)
    return target, "read-only folder"


def traceback_cases(box: Sandbox, m: Material) -> list[Case]:
    full, kind = full_disk(box)
    training = box.path("tb", "train.log")
    training.write_text(syslog_text(1500, seed=3))
    hf = m.hf_folder("good")
    cases = [
        Case(f"write: detect --self-train --save on a {kind}", [LOGPT, "detect", str(training), "--self-train",
             "--epochs", "1", "--session", "window:10", "--no-line-model", "--save", str(full / "det")], 150,
             check=lambda *_: no_tmp(full)),
        Case(f"write: train detector on a {kind}", [LOGPT, "train", "detector", str(full / "det2"), "--log",
             str(training), "--session", "window:10", "--epochs", "1"], 150, check=lambda *_: no_tmp(full)),
        Case(f"write: import hf OUT on a {kind}", [LOGPT, "import", "hf", str(hf), str(full / "imp")], 90,
             check=lambda *_: no_tmp(full)),
        Case(f"write: templates --state on a {kind}", [LOGPT, "templates", str(m.log), "--state",
             str(full / "state.json")], 60, check=lambda *_: no_tmp(full)),
        Case("option: generate --top-p 0", [LOGPT, "generate", "-m", str(m.bundle), "-p", "hi", "--top-p", "0"], 30),
        Case("option: generate --seed 2**70", [LOGPT, "generate", "-m", str(m.bundle), "-p", "hi", "--seed",
             str(2**70)], 30),
        Case("option: analyze --top-p 0", [LOGPT, "analyze", "-f", str(m.log), "-m", str(m.bundle), "--top-p", "0"], 30),
    ]  # fmt: skip
    for label, value in (("NaN", float("nan")), ("inf", float("inf"))):
        b = m.bundle_copy(f"weights-{label}")
        poison_weights(b / "model.safetensors", value)
        cases.append(Case(f"bundle: {label} weights → generate", [LOGPT, "generate", "-m", str(b), "-p", "hi",
                          "--max-tokens", "4", "--device", "cpu"], 60))  # fmt: skip
    det = m.detector("topk-nan")
    m.edit_json(det / "config.json", lambda d: d["top_k"].update(value=float("nan")))
    cases.append(Case("detector: top_k NaN", [LOGPT, "detect", str(m.log), "--detector", str(det), "--no-line-model"], 90))
    eos = m.bundle_copy("eos-list")
    m.edit_json(eos / "config.json", lambda d: d["tokenizer"].update(eot_token=["<|endoftext|>", "<|log_end|>"]))
    cases.append(Case("bundle: eos (eot_token) a list", [LOGPT, "generate", "-m", str(eos), "-p", "hi",
                      "--max-tokens", "2", "--device", "cpu"], 60))  # fmt: skip
    stops = m.bundle_copy("stop-ints")
    m.edit_json(stops / "config.json", lambda d: d.update(stop_tokens=[[1, 2], {"a": 1}]))
    cases.append(Case("bundle: stop_tokens of lists", [LOGPT, "generate", "-m", str(stops), "-p", "hi",
                      "--max-tokens", "2", "--device", "cpu"], 60))  # fmt: skip
    hf_changes: dict[str, Callable[[object], object]] = {
        "n_head 0": lambda d: d.update(n_head=0),
        "n_head 'abc'": lambda d: d.update(n_head="abc"),
        "config a list": lambda d: [d],
        "n_positions 10^12": lambda d: d.update(n_positions=10**12),
        "layer_norm_epsilon 'tiny'": lambda d: d.update(layer_norm_epsilon="tiny"),
    }
    for label, change in hf_changes.items():
        folder = m.hf_folder("cfg-" + "".join(c for c in label if c.isalnum()))
        m.edit_json(folder / "config.json", change)
        cases.append(Case(f"import hf: {label}", [LOGPT, "import", "hf", str(folder), str(box.root / "out" / folder.name)], 90))
    folder = m.hf_folder("vocab-list")
    m.edit_json(folder / "vocab.json", lambda d: list(d))
    cases.append(Case("import hf: vocab.json a list", [LOGPT, "import", "hf", str(folder), str(box.root / "out" / "vl")], 90))
    work = box.root / "genwork"
    (work / "checkpoint").mkdir(parents=True)
    (work / "checkpoint" / "state.json").write_text('{"step": "x", "param_groups": 5')
    (work / "checkpoint" / "model.safetensors").write_bytes(b"\xff" * 100)
    (work / "checkpoint" / "optimizer.safetensors").write_bytes(b"\x00" * 100)
    cases.append(Case("train generator: corrupt --resume checkpoint", [LOGPT, "train", "generator",
                      str(box.root / "out" / "gen"), "--work", str(work), "--preset", "tiny", "--resume", "--steps", "2",
                      "--device", "cpu", "--synthetic", "40", "--made-up", "0", "--build-data"], 150))  # fmt: skip
    fifo = box.path("tb", "ckpt.fifo")
    os.mkfifo(fifo)
    cases.append(Case("import logpt: checkpoint a FIFO", [LOGPT, "import", "logpt", str(fifo), str(box.root / "out" / "fifo"),
                      "--tokenizer", str(m.bundle / "tokenizer.tiktoken")], 30))  # fmt: skip
    negative = box.path("tb", "negative.tiktoken")
    lines = (m.bundle / "tokenizer.tiktoken").read_text().splitlines()
    token, _rank = lines[-1].split()
    negative.write_text("\n".join([*lines[:-1], f"{token} -5"]) + "\n")
    ckpt = m.logpt_checkpoint("neg")
    out = box.root / "out" / "negative"
    cases.append(Case("import logpt: negative token rank", [LOGPT, "import", "logpt", str(ckpt), str(out), "--tokenizer",
                      str(negative)], 90, check=lambda code, *_: None if code != 0 or loads(box, out) else
                      "wrote a bundle that does not load"))  # fmt: skip
    bogus = m.detector("bogus")
    m.edit_json(bogus / "config.json", lambda d: d.update(sessions={"kind": "bogus", "complete": True}))
    cases.append(Case("detector: session kind bogus", [LOGPT, "detect", str(m.log), "--detector", str(bogus),
                      "--no-line-model"], 90))  # fmt: skip
    return cases


def no_tmp(folder: Path) -> str | None:
    with contextlib.suppress(OSError):
        left = [p.name for p in folder.rglob("*") if p.name != "filler" and (".tmp" in p.name or p.name.startswith("."))]
        return f"left behind: {left[:3]}" if left else None
    return None


def loads(box: Sandbox, bundle: Path) -> bool:
    done = subprocess.run([LOGPT, "generate", "-m", str(bundle), "-p", "hi", "--max-tokens", "1", "--device", "cpu"],
                          env=box.env, capture_output=True, timeout=60)  # fmt: skip
    return done.returncode == 0


def poison_weights(path: Path, value: float) -> None:
    from safetensors.torch import load_file, save_file

    tensors = load_file(str(path))
    for name in tensors:
        if tensors[name].is_floating_point():
            tensors[name] = tensors[name].clone().fill_(value)
            break
    save_file(tensors, str(path))


def service_cases(box: Sandbox, m: Material, server: object) -> list[Case]:
    import redis

    url = server.url  # type: ignore[attr-defined]
    client = redis.Redis.from_url(url)
    det = m.detector("service")
    log = box.path("svc", "app.log")
    log.write_text(syslog_text(2000, seed=5))
    stream_log = box.path("svc", "typed.log")
    stream_log.write_text(syslog_text(50))
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    busy_port = busy.getsockname()[1]
    box.busy = busy  # type: ignore[attr-defined] - held until the end
    two_log = box.path("svc", "two.log")
    two_log.write_text(syslog_text(29_999, seed=7))
    dead_url = f"redis://127.0.0.1:{free_port()}/0"

    def set_string(key: str) -> Callable[[], list[Path]]:
        def prepare() -> list[Path]:
            client.delete(key)
            client.set(key, "not a stream")
            return []

        return prepare

    def corrupt_position() -> None:
        subprocess.run([LOGPT, "ship", str(stream_log), "--redis", url, "--stream", "pos", "--once"], env=box.env,
                       capture_output=True, timeout=60)  # fmt: skip
        for key in client.keys(tagged("pos") + ":ship:*"):
            if client.type(key) == b"hash":
                for f in client.hkeys(key):
                    client.hset(key, f, "garbage\x00")

    def wrong_position() -> None:
        from engine.stream.ship import position_key

        key = position_key("wpos", stream_log)
        client.delete(key)
        client.rpush(key, "a", "b")

    def destroy_group() -> None:
        client.xgroup_destroy("nogroup", "detect")
        subprocess.run([LOGPT, "ship", str(stream_log), "--redis", url, "--stream", "nogroup", "--once"], env=box.env,
                       capture_output=True, timeout=60)  # fmt: skip

    def nogroup_prepare() -> None:
        client.delete("nogroup")
        subprocess.run([LOGPT, "ship", str(log), "--redis", url, "--stream", "nogroup", "--once"], env=box.env,
                       capture_output=True, timeout=60)  # fmt: skip

    def group_back(*_: object) -> str | None:
        try:
            groups = client.xinfo_groups("nogroup")
        except redis.exceptions.ResponseError as e:
            return f"no group: {e}"
        return None if groups else "group not re-created"

    def maxlen_zero(code: int, *_: object) -> str | None:
        return f"exit 0 and the stream holds {client.xlen('mz')}" if code == 0 and client.xlen("mz") == 0 else None

    def two_ships_count(*_: object) -> str | None:
        n = client.xlen("two")
        return None if n == 29_999 else f"stream holds {n:,} entries for 29,999 lines"

    set_string("typed")()
    serve = [LOGPT, "serve", "--detector", str(det), "--redis", url]
    two = (f"TIME {LOGPT} ship {two_log} --redis {url} --stream two --once & "
           f"{LOGPT} ship {two_log} --redis {url} --stream two --once; wait")  # fmt: skip
    cases = [
        Case("service: ship to a stream key that is a string", [LOGPT, "ship", str(stream_log), "--redis", url, "--stream",
             "typed", "--once"], 60),
        Case("service: serve a stream key that is a string", [*serve, "--stream", "typed"], 60),
        Case("service: ship with a position key of the wrong type", [LOGPT, "ship", str(stream_log), "--redis", url,
             "--stream", "wpos", "--once"], 60, prepare=wrong_position),
        Case("service: ship with a corrupted position hash", [LOGPT, "ship", str(stream_log), "--redis", url, "--stream",
             "pos", "--once"], 60, prepare=corrupt_position),
        Case("service: serve --batch 0", [*serve, "--batch", "0"], 30),
        Case("service: serve --block-ms -1", [*serve, "--block-ms", "-1"], 30),
        Case("service: serve --claim-idle-ms -5", [*serve, "--claim-idle-ms", "-5"], 30),
        Case("service: ship --maxlen -1", [LOGPT, "ship", str(stream_log), "--redis", url, "--maxlen", "-1", "--once"], 30),
        Case("service: ship --maxlen 0", [LOGPT, "ship", str(stream_log), "--redis", url, "--stream", "mz", "--maxlen",
             "0", "--once"], 30, check=maxlen_zero),
        Case("service: serve metrics port in use", [*serve, "--stream", "m1", "--metrics-port", str(busy_port)], 60),
        Case("service: serve metrics port 99999", [*serve, "--stream", "m2", "--metrics-port", "99999"], 30),
        Case("service: SIGTERM to ship while Redis is down", [LOGPT, "ship", str(stream_log), "--redis", dead_url], 60,
             "either", stop_after=8),
        Case("service: serve after its group is destroyed (NOGROUP)", [*serve, "--stream", "nogroup"], 90, "either",
             stop_after=25, during=destroy_group, during_at=12, check=group_back,
             prepare=nogroup_prepare),
        Case("service: two ship --once on one file", two, 150, "either", check=two_ships_count),
    ]  # fmt: skip
    return cases


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="run only the cases whose name contains this")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument("--keep", action="store_true", help="keep the sandbox (its path is printed)")
    args = parser.parse_args()
    if shutil.which("tmux") is None or shutil.which("redis-server") is None:
        print("error: the sweep needs tmux and redis-server", file=sys.stderr)
        return 2
    from tests.redis_server import RedisServer

    box = Sandbox()
    server = RedisServer(box.path("redis", "x").parent, aof=False)
    rows: list[Row] = []
    try:
        server.start()
        m = Material(box)
        groups = [
            lambda: export_cases(box),
            lambda: startup_cases(box, m),
            lambda: state_cases(box, m),
            lambda: side_file_cases(box, m),
            lambda: bomb_cases(box, m, server.url),
            lambda: regex_cases(box),
            lambda: traceback_cases(box, m),
            lambda: service_cases(box, m, server),
        ]
        print(f"{'case':58} | {'command':60} | {'exit':>4} | {'secs':>6} | {'peak MB':>7} | verdict", flush=True)
        for build in groups:
            try:
                cases = build()
            except Exception as e:  # noqa: BLE001 - a group that cannot be built is a finding too
                print(f"[sweep: a group could not be built: {type(e).__name__}: {e}]", flush=True)
                continue
            for case in cases:
                if args.only and args.only not in case.name:
                    continue
                if args.list:
                    print(visible(case.name))
                    continue
                row = run_case(box, case)
                rows.append(row)
                code = "-" if row.code is None else str(row.code)
                print(f"{visible(row.name)[:58]:58} | {visible(row.command)[-60:]:60} | {code:>4} | {row.seconds:6.1f} | "
                      f"{row.rss_kb / 1024:7.0f} | {row.verdict}", flush=True)  # fmt: skip
        failed = [r for r in rows if r.verdict != "ok"]
        print(f"\n{len(rows) - len(failed)} of {len(rows)} cases ok, {len(failed)} failed")
        for r in failed:
            print(f"\n--- {visible(r.name)}: {r.verdict}\n    $ {visible(r.command)}")
            for line in r.tail.splitlines():
                print(f"    | {visible(line)[:300]}")
        return 1 if failed else 0
    finally:
        server.stop()
        if args.keep:
            print(f"sandbox kept: {box.root}")
        else:
            box.cleanup()


def visible(text: str) -> str:
    """Escapes and format characters shown as text (the sweep's own output must be safe too)."""
    return "".join(c if c.isprintable() or c == "\n" else f"<U+{ord(c):04X}>" for c in text)


if __name__ == "__main__":
    sys.exit(main())
