"""Soak: the agent runs 10,000 heartbeats against a loopback server with a random mix of faults.

    .venv/bin/python benchmarks/soak.py [--beats 10000] [--interval 0.1] [--modes headless,tray]

Reports RSS, open file descriptors and threads at the start (beat 100), middle and end. Not part of the
test suite (it takes about 20 minutes); its last result is in docs/performance.md.
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import agent  # noqa: E402
from tests.support.orchestrator import Orchestrator, Reply, Reset  # noqa: E402
from tests.support.services import XDisplay  # noqa: E402

FAULTS = [
    (0.90, Reply(200)),
    (0.03, Reply(500, {"detail": "storage failure"})),
    (0.02, Reset(after_headers=True)),
    (0.02, Reply(502, b"<html><title>502 Bad Gateway</title></html>", {"Content-Type": "text/html"})),
    (0.02, Reply(422, {"detail": [{"loc": ["body"], "msg": "bad", "type": "t"}]})),
    (0.01, Reply(429, {"detail": "slow down"})),
]


def faulty(seed: int):
    rng = random.Random(seed)
    lock = threading.Lock()

    def script(_n, _body):
        with lock:
            roll = rng.random()
        for weight, behaviour in FAULTS:
            if roll < weight:
                return behaviour
            roll -= weight
        return FAULTS[0][1]

    return script


def sample(proc: psutil.Process) -> tuple[float, int, int]:
    return proc.memory_info().rss / 2**20, proc.num_fds(), proc.num_threads()


def soak(mode: str, beats: int, interval: float, display: str | None) -> list[tuple[int, float, int, int]]:
    server = Orchestrator()
    server.script = faulty(seed=42)
    proc, ps = agent.launch(
        server.url, interval, display=None if mode == "headless" else display, tag=f"soak-{mode}"
    )
    rows = []
    try:
        for mark in sorted({min(100, beats), beats // 2, beats}):
            if not server.wait_for(mark, timeout=mark * interval * 5 + 60):
                raise SystemExit(f"{mode}: only {len(server.times())} of {mark} heartbeats")
            rows.append((mark, *sample(ps)))
            print(
                f"  {mode}: {mark} beats, RSS {rows[-1][1]:.1f} MB, fds {rows[-1][2]}, threads {rows[-1][3]}",
                flush=True,
            )
    finally:
        agent.stop(proc)
        server.stop()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--beats", type=int, default=10_000)
    parser.add_argument("--interval", type=float, default=0.1)
    parser.add_argument("--modes", default="headless,tray")
    args = parser.parse_args()
    modes = [m for m in args.modes.split(",") if m]
    display = XDisplay().start() if "tray" in modes else None
    results: dict[str, list] = {}
    started = time.monotonic()
    try:
        threads = [
            threading.Thread(
                target=lambda m=m: results.__setitem__(
                    m, soak(m, args.beats, args.interval, display and display.display)
                )
            )
            for m in modes
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        if display:
            display.stop()
    print(
        f"\nsoak: {args.beats} heartbeats at {args.interval:g} s, ~10 % faults, "
        f"{time.monotonic() - started:.0f} s"
    )
    print(f"{'mode':<9} {'beat':>6} {'RSS':>9} {'fds':>5} {'threads':>8}")
    for mode in modes:
        for mark, rss, fds, nthreads in results.get(mode, []):
            print(f"{mode:<9} {mark:>6} {rss:>7.1f}MB {fds:>5} {nthreads:>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
