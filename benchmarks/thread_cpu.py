"""CPU per heartbeat by thread, from the scheduler's own nanosecond count: bench.py's figure comes from
10 ms ticks and single runs spread by about 10 %, too much to tell two trees 2 % apart.

    .venv/bin/python benchmarks/thread_cpu.py                   # the tray, 600 beats 0.1 s apart
    .venv/bin/python benchmarks/thread_cpu.py --mode headless --beats 300

Threads are grouped by their OS name: Qt names its threads (the tray's beat QThread is "heartbeat"), and a
Python thread keeps the name of the thread that started it, so the deadline watch and the history writer
count under "heartbeat" too. Linux only (/proc/PID/task/*/schedstat).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import agent  # noqa: E402
from tests.support.orchestrator import Orchestrator  # noqa: E402
from tests.support.services import XDisplay  # noqa: E402


def thread_times(pid: int) -> dict[tuple[str, str], tuple[int, int]]:
    """(thread id, name) -> (ns on a CPU, times it was scheduled in)."""
    times = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            name = (task / "comm").read_text().strip()
            on_cpu, _waited, slices = (task / "schedstat").read_text().split()
        except (OSError, ValueError):
            continue  # the thread ended meanwhile
        times[(task.name, name)] = (int(on_cpu), int(slices))
    return times


def measure(mode: str, beats: int, interval: float, display: str | None) -> tuple[int, dict[str, list[int]]]:
    server = Orchestrator()
    proc, _ps = agent.launch(server.url, interval, display=display if mode == "tray" else None)
    try:
        if not server.wait_for(10, timeout=60):
            raise SystemExit(f"{mode}: fewer than 10 heartbeats in 60 s")
        before, n0 = thread_times(proc.pid), len(server.times())
        server.wait_for(n0 + beats, timeout=beats * interval * 3 + 30)
        after, n1 = thread_times(proc.pid), len(server.times())
    finally:
        agent.stop(proc)
        server.stop()
    by_name: dict[str, list[int]] = {}
    for key, (on_cpu, slices) in after.items():
        cpu0, slices0 = before.get(key, (0, 0))
        row = by_name.setdefault(key[1], [0, 0])
        row[0] += on_cpu - cpu0
        row[1] += slices - slices0
    return n1 - n0, by_name


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mode", choices=("tray", "headless"), default="tray")
    parser.add_argument("--beats", type=int, default=600)
    parser.add_argument("--interval", type=float, default=0.1)
    args = parser.parse_args()
    display = XDisplay(with_tray=True).start() if args.mode == "tray" else None
    try:
        beats, by_name = measure(args.mode, args.beats, args.interval, display and display.display)
    finally:
        if display:
            display.stop()
    total = sum(cpu for cpu, _ in by_name.values())
    print(f"{args.mode}: {total / 1e6 / beats:.3f} ms of CPU per heartbeat over {beats} heartbeats")
    print(f"{'thread':<18} {'ms/beat':>8} {'runs/beat':>10}")
    for name, (cpu, slices) in sorted(by_name.items(), key=lambda kv: -kv[1][0]):
        print(f"{name:<18} {cpu / 1e6 / beats:8.3f} {slices / beats:10.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
