"""Polaris Tray benchmarks: prints launch-to-first-heartbeat, CPU per heartbeat, RSS and cadence error.

    .venv/bin/python benchmarks/bench.py                      # headless and tray
    .venv/bin/python benchmarks/bench.py --modes frozen       # the PyInstaller build (build it first)
    .venv/bin/python benchmarks/bench.py --rss-beats 1000     # GUI RSS after 10 and after N heartbeats
    .venv/bin/python benchmarks/bench.py --modes headless,headless-service   # + metrics, notify, GPUs

Everything runs against a loopback orchestrator; the tray mode starts its own Xvfb and trayer.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import agent  # noqa: E402
from tests.support.orchestrator import Orchestrator  # noqa: E402
from tests.support.services import XDisplay  # noqa: E402


def cpu_seconds(proc: psutil.Process) -> float:
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def uss_mb(proc: psutil.Process) -> float:
    """Memory private to the process: unlike RSS, it does not depend on how shared libraries are mapped."""
    return sum(p.memory_full_info().uss for p in [proc, *proc.children(recursive=True)]) / 2**20


def rss_mb(proc: psutil.Process) -> float:
    return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)]) / 2**20


def run_mode(mode: str, interval: float, beats: int, display: str | None) -> dict:
    """mode: headless, tray, frozen (headless) or frozen-tray."""
    server = Orchestrator()
    gui = mode.endswith("tray")
    extras = agent.service_extras(mode)  # before the clock starts: it may compile the stand-in NVML
    started = time.monotonic()
    proc, ps = agent.launch(
        server.url,
        interval,
        display=display if gui else None,
        frozen=mode.startswith("frozen"),
        extras=extras,
    )
    try:
        if not server.wait_for(1, timeout=30):
            raise SystemExit(f"{mode}: no heartbeat within 30 s")
        first = server.times()[0] - started
        server.wait_for(beats + 2, timeout=beats * interval * 3 + 30)
        times = server.times()[2:]
        periods = [b - a for a, b in itertools.pairwise(times)]
        return {
            "first_beat_s": first,
            "rss_mb": rss_mb(ps),
            "uss_mb": uss_mb(ps),
            "cadence_error_pct": abs(statistics.mean(periods) - interval) / interval * 100,
        }
    finally:
        agent.stop(proc)
        server.stop()


def cpu_per_beat(mode: str, display: str | None, beats: int = 300, interval: float = 0.1) -> float:
    """CPU milliseconds per heartbeat, idle time between beats included. Linux counts CPU time in 10 ms
    ticks, so it is measured over hundreds of beats."""
    server = Orchestrator()
    proc, ps = agent.launch(
        server.url,
        interval,
        display=display if mode.endswith("tray") else None,
        frozen=mode.startswith("frozen"),
        extras=agent.service_extras(mode),
    )
    try:
        server.wait_for(10, timeout=60)
        cpu0, n0 = cpu_seconds(ps), len(server.times())
        server.wait_for(n0 + beats, timeout=beats * interval * 3 + 30)
        cpu1, n1 = cpu_seconds(ps), len(server.times())
        return (cpu1 - cpu0) * 1000 / max(1, n1 - n0)
    finally:
        agent.stop(proc)
        server.stop()


def rss_trend(mode: str, interval: float, beats: int, display: str | None) -> list[tuple[int, float, float]]:
    server = Orchestrator()
    gui = mode.endswith("tray")
    proc, ps = agent.launch(
        server.url, interval, display=display if gui else None, frozen=mode.startswith("frozen")
    )
    samples = []
    try:
        for mark in sorted({10, beats // 4, beats // 2, 3 * beats // 4, beats}):
            if not server.wait_for(mark, timeout=mark * interval * 4 + 30):
                raise SystemExit(f"{mode}: only {len(server.times())} of {mark} heartbeats")
            samples.append((mark, rss_mb(ps), uss_mb(ps)))
    finally:
        agent.stop(proc)
        server.stop()
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--modes", default="headless,tray,frozen,frozen-tray", help="frozen needs dist/")
    parser.add_argument("--beats", type=int, default=12, help="heartbeats at 1 s for cadence and CPU")
    parser.add_argument("--rss-beats", type=int, default=0, help="also sample RSS up to N beats at 0.1 s")
    args = parser.parse_args()
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    display = None
    if any(m.endswith("tray") for m in modes):
        display = XDisplay(with_tray=True).start()
    rows = []
    try:
        x = display.display if display else None
        for mode in modes:
            result = run_mode(mode, 1.0, args.beats, x)
            result["cpu_ms_per_beat"] = cpu_per_beat(mode, x)
            rows.append((mode, result))
        print(
            "| mode | launch to first heartbeat | CPU per heartbeat | RSS | USS (private) | cadence error |"
        )
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for mode, r in rows:
            print(
                f"| {mode} | {r['first_beat_s'] * 1000:.0f} ms | {r['cpu_ms_per_beat']:.2f} ms | "
                f"{r['rss_mb']:.1f} MB | {r['uss_mb']:.1f} MB | {r['cadence_error_pct']:.3f} % |"
            )
        if args.rss_beats:
            print()
            print("| mode | heartbeats (0.1 s apart) | RSS | USS (private) |")
            print("| --- | ---: | ---: | ---: |")
            for mode in modes:
                for n, rss, uss in rss_trend(mode, 0.1, args.rss_beats, x):
                    print(f"| {mode} | {n} | {rss:.1f} MB | {uss:.1f} MB |")
    finally:
        if display:
            display.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
