"""Planted-incident syslogs for measuring anomaly flags: hours of a host's traffic with one incident at known lines.

The background is the steady traffic of `train.synth.background` plus what real hosts also log now and
then without anything being wrong — daily jobs, reloads, a scanner's disconnects, a favicon that is
never there (an error line, routine on a web host) — so a detector that flags whatever is rare or
whatever says "error" is caught out. The incident's lines (`train.synth.incidents`) are interleaved
with background lines, as on a busy host. The same seed without the incident gives the same traffic
with nothing to find: flags there are false alarms.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from train.synth.background import USERS, Clock, Event, normal_events, random_ip, syslog_line
from train.synth.incidents import INCIDENTS


def _routine_but_rare(r: random.Random) -> list[tuple[float, Callable[[], Event]]]:
    """(weight, maker): events a healthy host logs now and then; weights relative to 1 for each common event."""
    return [
        (0.02, lambda: ("systemd", "INFO", "Reloading.")),
        (0.02, lambda: ("systemd", "INFO", f"Finished {r.choice(('logrotate', 'apt-daily', 'man-db'))}.service.")),
        (0.01, lambda: ("ntpd", "INFO", f"adjusting local clock by {r.uniform(-0.5, 0.5):.6f}s")),
        (
            0.05,
            lambda: (
                "sshd",
                "INFO",
                f"Received disconnect from {random_ip(r, private=False)} port "
                f"{r.randint(30000, 65000)}:11: Bye Bye [preauth]",
            ),
        ),  # fmt: skip
        (
            0.01,
            lambda: (
                "sudo",
                "INFO",
                f"{r.choice(USERS)} : TTY=pts/{r.randint(0, 4)} ; PWD=/home ; USER=root ; "
                "COMMAND=/usr/bin/systemctl status nginx",
            ),
        ),  # fmt: skip
        (
            0.2,
            lambda: (
                "nginx",
                "ERROR",
                f'open() "/srv/www/favicon.ico" failed (2: No such file or directory), client: {random_ip(r)}',
            ),
        ),  # fmt: skip
        (0.005, lambda: ("kernel", "INFO", f"EXT4-fs (sda{r.randint(1, 3)}): re-mounted. Opts: errors=remount-ro")),
    ]


@dataclass(frozen=True)
class PlantedLog:
    lines: list[str]
    incident: str | None  # the incident's kind
    span: tuple[int, int] | None  # 1-based first and last line of the incident


def planted_log(seed: int, n_lines: int = 3000, *, incident: bool = True) -> PlantedLog:
    """A syslog of about `n_lines` lines; with `incident`, one incident's lines are interleaved at a random point."""
    rng = random.Random(seed)  # the traffic and the incident: drawn alike with or without it
    common = normal_events(rng)
    rare = _routine_but_rare(rng)
    makers = [*common, *(m for _, m in rare)]
    weights = [0.3 + rng.random() for _ in common] + [w for w, _ in rare]
    kind = rng.choice(INCIDENTS)
    burst = kind.make(rng)
    fillers = [[rng.choices(makers, weights)[0]() for _ in range(rng.randint(0, 3))] for _ in burst]
    at = rng.randint(n_lines // 10, n_lines - n_lines // 10)
    events: list[Event] = [rng.choices(makers, weights)[0]() for _ in range(n_lines)]
    planted: list[tuple[Event, bool]] = [(e, False) for e in events[:at]]
    if incident:
        for event, filler in zip(burst, fillers, strict=True):
            planted.append((event, True))
            planted.extend((e, False) for e in filler)
    planted.extend((e, False) for e in events[at:])
    rng = random.Random(seed + 1)  # the clock and the pids: lines before the incident read the same in both
    start = datetime(2026, rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23))
    clock, host, pids = Clock(start, rng), "web-1", {}
    lines, inside = [], []
    for n, ((program, level, message), mine) in enumerate(planted, 1):
        pid = None if program == "kernel" else pids.setdefault(program, rng.randint(200, 60000))
        lines.append(syslog_line(clock, host, program, level, message, pid))
        if mine:
            inside.append(n)
    span = (inside[0], inside[-1]) if inside else None
    return PlantedLog(lines, kind.kind if incident else None, span)
