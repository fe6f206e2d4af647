"""Does the status window's cost grow with history? Two tray agents at the same interval, side by side on
one X display and one loopback orchestrator: one with the status window open, one with it closed.

    .venv/bin/python benchmarks/status_window.py      # 0.5 s, 30 min of rows pre-filled, 5 min measured
    .venv/bin/python benchmarks/status_window.py --minutes 30 --prefill-min 0   # the full acceptance run

Prints each minute's CPU % for both agents and the difference. Pre-filling writes N minutes of rows at the
interval through the real HistoryStore, tagged with the agent's miner id, so the window starts with the
history a 30-minute run would have built.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import agent  # noqa: E402
from benchmarks.bench import cpu_seconds  # noqa: E402
from polaris_tray.core.storage.history import HistoryStore  # noqa: E402
from polaris_tray.core.values.outcome import Outcome, OutcomeKind  # noqa: E402
from tests.support.orchestrator import Orchestrator  # noqa: E402
from tests.support.services import XDisplay  # noqa: E402


def prefill(home: str, minutes: float, interval: float) -> int:
    path = Path(home) / ".local" / "state" / "polaris-tray" / "history.sqlite3"
    store = HistoryStore(path)
    now, count = time.time(), int(minutes * 60 / interval)
    rows = [Outcome(OutcomeKind.ACCEPTED, 200, latency_ms=1.0 + (i % 7)) for i in range(count)]
    for i, outcome in enumerate(rows):  # one write each, as the agent does (slow but honest)
        store.record(outcome, at=now - (count - i) * interval, miner_id=agent.MINER)
    store.close()
    return count


def open_status_window(env: dict) -> None:
    """A second launch asks the running agent to show its status window."""
    subprocess.run(
        [sys.executable, "-m", "polaris_tray"], env=env, timeout=30, capture_output=True, check=False
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--interval", type=float, default=0.5)
    parser.add_argument("--minutes", type=float, default=5.0, help="measured time")
    parser.add_argument("--prefill-min", type=float, default=30.0, help="minutes of history written first")
    parser.add_argument("--display", help="an X display with a tray host already running (else Xvfb)")
    opts = parser.parse_args()

    display = None if opts.display else XDisplay(with_tray=True).start()
    x = opts.display or display.display
    server = Orchestrator()
    agents = {}
    try:
        for name in ("closed", "open"):
            home = tempfile.mkdtemp(prefix=f"polaris-sw-{name}-")
            rows = prefill(home, opts.prefill_min, opts.interval) if opts.prefill_min else 0
            proc, ps = agent.launch(server.url, opts.interval, display=x, tag=f"sw-{name}", home=home)
            agents[name] = (proc, ps, dict(agent.launch.last_env))
            print(f"{name}: pid {proc.pid}, {rows} rows pre-filled", flush=True)
        time.sleep(5)  # both up and beating
        open_status_window(agents["open"][2])
        time.sleep(5)
        print(f"interval {opts.interval} s; CPU % per minute (100 % = one core)", flush=True)
        print(f"{'minute':>6} {'closed':>8} {'open':>8} {'open-closed':>12}", flush=True)
        totals = {name: [] for name in agents}
        last = {name: (cpu_seconds(a[1]), time.monotonic()) for name, a in agents.items()}
        for minute in range(1, int(opts.minutes) + 1):
            time.sleep(60)
            row = {}
            for name, (_proc, ps, _env) in agents.items():
                cpu, at = cpu_seconds(ps), time.monotonic()
                row[name] = (cpu - last[name][0]) / (at - last[name][1]) * 100
                last[name] = (cpu, at)
                totals[name].append(row[name])
            diff = row["open"] - row["closed"]
            print(f"{minute:>6} {row['closed']:>8.2f} {row['open']:>8.2f} {diff:>12.2f}", flush=True)
        mean = {name: sum(v) / len(v) for name, v in totals.items()}
        print(
            f"mean   {mean['closed']:>8.2f} {mean['open']:>8.2f} {mean['open'] - mean['closed']:>12.2f}"
            f"   (last minute: {totals['open'][-1] - totals['closed'][-1]:.2f})",
            flush=True,
        )
        print(f"beats received: {len(server.times())}", flush=True)
    finally:
        for proc, _ps, _env in agents.values():
            agent.stop(proc)
        server.stop()
        if display is not None:
            display.stop()


if __name__ == "__main__":
    os.environ.pop("POLARIS_MINER_ID", None)
    main()
