"""Polaris Tray benchmarks: prints launch-to-first-heartbeat, CPU per heartbeat, RSS and cadence error.

    .venv/bin/python benchmarks/bench.py                      # headless and tray
    .venv/bin/python benchmarks/bench.py --modes frozen       # the PyInstaller build (build it first)
    .venv/bin/python benchmarks/bench.py --rss-beats 1000     # GUI RSS after 10 and after N heartbeats

Everything runs against a loopback orchestrator; the tray mode starts its own Xvfb and trayer.
"""

from __future__ import annotations

import argparse
import itertools
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.orchestrator import Orchestrator  # noqa: E402
from tests.support.services import XDisplay  # noqa: E402

MINER = "bench-miner-0001"


def command(mode: str) -> list[str]:
    if mode == "frozen":
        exe = ROOT / "dist" / "polaris-tray" / "polaris-tray"
        if not exe.exists():
            exe = ROOT / "dist" / "polaris-tray"
        if not exe.exists():
            raise SystemExit("no frozen build in dist/: run python build_scripts/build.py first")
        return [str(exe)]
    return [sys.executable, "-m", "polaris_tray"]


def environment(home: Path, display: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "DBUS_", "POLARIS_"))}
    env.update(
        HOME=str(home),
        POLARIS_MINER_ID=MINER,
        PYTHONPATH=str(ROOT),
        POLARIS_TRAY_INSTANCE=f"polaris-bench-{os.getpid()}",
    )
    if display:
        env.update(DISPLAY=display, QT_QPA_PLATFORM="xcb")
    else:
        env.pop("DISPLAY", None)
    return env


def cpu_seconds(proc: psutil.Process) -> float:
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def rss_mb(proc: psutil.Process) -> float:
    return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)]) / 2**20


def run_mode(mode: str, interval: float, beats: int, display: str | None, headless: bool) -> dict:
    server = Orchestrator()
    home = Path(tempfile.mkdtemp(prefix="polaris-bench-"))
    args = [*command(mode), "--server-url", server.url, "--interval", str(interval)]
    if headless:
        args.append("--headless")
    started = time.monotonic()
    proc = subprocess.Popen(
        args, env=environment(home, display), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    ps = psutil.Process(proc.pid)
    try:
        if not server.wait_for(1, timeout=30):
            raise SystemExit(f"{mode}: no heartbeat within 30 s")
        first = server.times()[0] - started
        server.wait_for(3, timeout=30)
        cpu0, n0 = cpu_seconds(ps), len(server.times())
        server.wait_for(n0 + beats, timeout=beats * interval * 3 + 30)
        cpu1, n1 = cpu_seconds(ps), len(server.times())
        times = server.times()[2:]
        periods = [b - a for a, b in itertools.pairwise(times)]
        return {
            "first_beat_s": first,
            "cpu_ms_per_beat": (cpu1 - cpu0) * 1000 / max(1, n1 - n0),
            "rss_mb": rss_mb(ps),
            "cadence_error_pct": abs(statistics.mean(periods) - interval) / interval * 100,
            "beats": n1,
        }
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
        server.stop()


def rss_trend(
    mode: str, interval: float, beats: int, display: str | None, headless: bool
) -> list[tuple[int, float]]:
    server = Orchestrator()
    home = Path(tempfile.mkdtemp(prefix="polaris-bench-"))
    args = [*command(mode), "--server-url", server.url, "--interval", str(interval)]
    if headless:
        args.append("--headless")
    proc = subprocess.Popen(
        args, env=environment(home, display), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    ps = psutil.Process(proc.pid)
    marks = sorted({10, beats // 4, beats // 2, 3 * beats // 4, beats})
    samples = []
    try:
        for mark in marks:
            if not server.wait_for(mark, timeout=mark * interval * 4 + 30):
                raise SystemExit(f"{mode}: only {len(server.times())} of {mark} heartbeats")
            samples.append((mark, rss_mb(ps)))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(5)
        server.stop()
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--modes", default="headless,tray")
    parser.add_argument("--beats", type=int, default=12, help="heartbeats at 1 s for cadence and CPU")
    parser.add_argument("--rss-beats", type=int, default=0, help="also sample RSS up to N beats at 0.1 s")
    args = parser.parse_args()
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    display = None
    if any(m in ("tray", "frozen") for m in modes):
        display = XDisplay(with_tray=True).start()
    rows = []
    try:
        for mode in modes:
            gui = mode in ("tray", "frozen-tray")
            result = run_mode(
                "frozen" if mode.startswith("frozen") else mode,
                1.0,
                args.beats,
                display.display if (display and gui) else None,
                headless=not gui,
            )
            rows.append((mode, result))
        print(f"{'mode':<10} {'first beat':>11} {'CPU/beat':>10} {'RSS':>8} {'cadence err':>12}")
        for mode, r in rows:
            print(
                f"{mode:<10} {r['first_beat_s'] * 1000:>9.0f}ms {r['cpu_ms_per_beat']:>8.2f}ms "
                f"{r['rss_mb']:>6.1f}MB {r['cadence_error_pct']:>11.3f}%"
            )
        if args.rss_beats:
            for mode in modes:
                gui = mode in ("tray", "frozen-tray")
                samples = rss_trend(
                    "frozen" if mode.startswith("frozen") else mode,
                    0.1,
                    args.rss_beats,
                    display.display if (display and gui) else None,
                    headless=not gui,
                )
                print(f"RSS {mode}: " + ", ".join(f"{n} beats {mb:.1f} MB" for n, mb in samples))
    finally:
        if display:
            display.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
