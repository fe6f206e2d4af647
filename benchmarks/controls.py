"""How fast the controls act while the server hangs, and how soon a late keyring starts the heartbeat.

    .venv/bin/python benchmarks/controls.py            # 5 rounds each
    .venv/bin/python benchmarks/controls.py --rounds 20 --no-keyring

In-process controller (offscreen Qt) against loopback orchestrators that hang; the keyring figure runs the
real app against a real gnome-keyring that is locked at start and unlocked a few seconds later.
The suite asserts counts and order; the latencies live here.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from tests.support.orchestrator import Hang, Orchestrator, Reply  # noqa: E402

MINER = "miner-bench-controls-0001"


def pump_until(app, predicate, timeout: float) -> float | None:
    """Runs the event loop until predicate() holds; the seconds it took, or None."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        app.processEvents()
        if predicate():
            return time.monotonic() - started
        time.sleep(0.001)
    return None


def controller_against(url: str, interval: str = "30"):
    from tests.support.worker import start_controller

    return start_controller(url, interval)


def round_hang(app) -> dict[str, float]:
    from polaris_tray.core.config.settings import Settings
    from polaris_tray.core.heartbeat.runner import SendNow
    from polaris_tray.core.values.link_state import LinkState

    hanging, second = Orchestrator(behaviour=Hang()), Orchestrator(behaviour=Reply())
    figures: dict[str, float] = {}
    try:
        c = controller_against(hanging.url, "0.5")
        assert hanging.wait_for(1, 10)
        pump_until(app, lambda: c.snapshot is not None, 5)
        t = time.monotonic()
        c.request_stop()
        figures["stop: 'Stopped' shown (s)"] = time.monotonic() - t
        confirmed = pump_until(app, lambda: not c._stop_pending, 5)
        figures["stop: worker confirmed (s)"] = confirmed if confirmed is not None else float("nan")
        before = len(hanging.arrivals)
        pump_until(app, lambda: False, 1.0)
        figures["stop: requests in the next 1 s"] = len(hanging.arrivals) - before
        c.lifecycle.quit()

        hanging.arrivals.clear()
        c = controller_against(hanging.url)
        assert hanging.wait_for(1, 10)
        c.overrides["server_url"] = None  # as the dialog does when the user changes the server
        t = time.monotonic()
        c.apply_settings(Settings(server_url=second.url, interval_s=30.0))
        took = pump_until(app, lambda: len(second.arrivals) >= 1, 5)
        figures["apply new URL: first request (s)"] = took if took is not None else float("nan")
        pump_until(app, lambda: c.snapshot.state is LinkState.ONLINE, 5)
        c.lifecycle.quit()

        hanging.arrivals.clear()
        c = controller_against(hanging.url)
        assert hanging.wait_for(1, 10)
        for _ in range(10):
            c.worker.submit(SendNow())
        pump_until(app, lambda: False, 1.0)
        figures["10 Send now in a hang: extra requests"] = len(hanging.arrivals) - 1
        t = time.monotonic()
        c.lifecycle.quit()
        figures["quit with Send now queued (s)"] = time.monotonic() - t
        pump_until(app, lambda: False, 0.3)
        figures["requests after Quitting"] = len(hanging.arrivals) - 1
    finally:
        hanging.stop()
        second.stop()
    return figures


def round_keyring(locked_s: float) -> float:
    from tests.support import keyring_lock
    from tests.support.app import app_env, start_app
    from tests.support.services import SecretService

    service = SecretService().start()
    server = Orchestrator()
    home = Path(tempfile.mkdtemp(prefix="polaris-bench-home-"))
    try:
        keyring_lock.store_id(service.env, MINER)
        keyring_lock.lock(service.env)
        env = app_env(home, miner_id=None, keyring=service.env, QT_QPA_PLATFORM="offscreen")
        proc = start_app(["--server-url", server.url, "--interval", "1"], env)
        try:
            time.sleep(locked_s)
            assert not server.arrivals
            keyring_lock.unlock(service.env)
            unlocked = time.monotonic()
            assert server.wait_for(1, 20)
            return server.times()[0] - unlocked
        finally:
            proc.terminate()
            proc.communicate(timeout=10)
    finally:
        server.stop()
        service.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-keyring", action="store_true")
    parser.add_argument("--locked-s", type=float, default=10.0, help="how long the keyring stays locked")
    args = parser.parse_args()

    home = tempfile.mkdtemp(prefix="polaris-bench-home-")
    os.environ.update(HOME=home, POLARIS_MINER_ID=MINER)
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(["bench"])
    rows: dict[str, list[float]] = {}
    for _ in range(args.rounds):
        for name, value in round_hang(app).items():
            rows.setdefault(name, []).append(value)
    if not args.no_keyring:
        os.environ.pop("POLARIS_MINER_ID")
        rounds = max(1, args.rounds // 2)
        name = "keyring unlocked -> first heartbeat (s)"
        rows[name] = [round_keyring(args.locked_s) for _ in range(rounds)]
    width = max(len(k) for k in rows)
    print(f"{'figure':<{width}}  {'median':>8}  {'max':>8}  n")
    for name, values in rows.items():
        print(f"{name:<{width}}  {statistics.median(values):8.3f}  {max(values):8.3f}  {len(values)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
