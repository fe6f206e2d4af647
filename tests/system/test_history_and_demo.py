"""History (SQLite, bounded, no secret), the demo orchestrator, and the status window on seeded history."""

import json
import stat
import subprocess
import sys
import time

import pytest

from polaris_tray.core.config.settings import Settings
from polaris_tray.core.status.diagnostics import diagnostics_text
from polaris_tray.core.status.snapshot import Snapshot
from polaris_tray.core.storage.history import HistoryStore
from polaris_tray.core.storage.history_db import KEEP_S
from polaris_tray.core.values.link_state import LinkState
from polaris_tray.core.values.outcome import NetworkReason, Outcome, OutcomeKind
from polaris_tray.core.values.redact import mask_secret
from polaris_tray.demo.server import DEMO_MINER_ID, DemoOrchestrator
from tests.support.app import ARTIFACTS, ROOT, app_env, files_containing, run_app
from tests.support.orchestrator import Reply

OK = Outcome(OutcomeKind.ACCEPTED, 200, latency_ms=84.0)
E500 = Outcome(OutcomeKind.SERVER_ERROR, 500, latency_ms=12.0, error="Server error (HTTP 500: db down).")
REFUSED = Outcome(
    OutcomeKind.NETWORK_ERROR, latency_ms=1.0, error="Connection refused.", reason=NetworkReason.REFUSED
)
E404 = Outcome(OutcomeKind.NOT_REGISTERED, 404, latency_ms=30.0, error="This orchestrator does not know...")


def seeded(path, now, count=400, step=20.0):
    """A history of `count` attempts, one every `step` seconds, ending now: mostly accepted, with outages."""
    clock = [now]
    store = HistoryStore(path, clock=lambda: clock[0])
    for i in range(count):
        at = now - (count - i) * step
        outcome = OK if i % 17 else (E500 if i % 2 else REFUSED)
        if 300 < i < 305:
            outcome = E404
        latency = 60 + (i * 37) % 90
        store.record(
            Outcome(
                outcome.kind,
                outcome.status_code,
                latency if outcome.ok else outcome.latency_ms,
                outcome.error,
                outcome.reason,
            ),
            at=at,
        )
    return store


def test_history_keeps_7_days_and_survives_a_restart(tmp_path):
    path = tmp_path / "state" / "history.sqlite3"
    now = [1_000_000.0]
    store = HistoryStore(path, clock=lambda: now[0])
    store.record(OK, at=now[0] - KEEP_S - 10)  # older than a week
    store.record(E500, at=now[0] - 60)
    store.record(OK, at=now[0] - 1)
    assert store.prune() == 1
    store.close()
    reopened = HistoryStore(path, clock=lambda: now[0])
    assert [a.outcome for a in reopened.recent()] == ["accepted", "server_error"]
    ratio, total = reopened.success_ratio(3600)
    assert (ratio, total) == (0.5, 2)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_history_queries_are_bounded(tmp_path):
    store = seeded(tmp_path / "h.sqlite3", time.time(), count=300, step=1.0)
    assert len(store.since(0, limit=100)) == 100
    assert len(store.recent(50)) == 50
    rows = store.since(0, limit=100)
    assert rows == sorted(rows, key=lambda a: a.at)  # oldest first, the newest 100


def test_demo_orchestrator_validates_like_the_real_one():
    import requests

    demo = DemoOrchestrator().start()
    try:
        reply = requests.post(f"{demo.url}/heart_beat", json={"status": "online"}, timeout=5)
        assert reply.status_code == 422
        assert {tuple(e["loc"]) for e in reply.json()["detail"]} >= {
            ("body", "timestamp"),
            ("body", "metrics"),
        }
        good = run_app(["--once", "--demo"], app_env(ROOT / "nonexistent-home", miner_id=None))
        assert good.returncode == 0, good.stderr
        assert json.loads(good.stdout)["outcome"] == "accepted"
    finally:
        demo.stop()


def test_demo_once_and_headless_touch_neither_keyring_nor_settings(home):
    env = app_env(home, miner_id=None)  # no miner id and no keyring: the demo needs neither
    once = run_app(["--demo", "--once"], env)
    assert once.returncode == 0 and json.loads(once.stdout)["ok"] is True
    proc = subprocess.Popen(
        [sys.executable, "-m", "polaris_tray", "--demo", "--headless", "--interval", "0.2"],
        env=env,
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any("-> online" in line for line in lines):
            lines.append(proc.stderr.readline())
        assert any("connecting -> online" in line for line in lines), lines
    finally:
        proc.terminate()
        proc.wait(5)
    assert not (home / ".config" / "polaris-tray").exists()
    assert files_containing(home, DEMO_MINER_ID) == []


def test_history_never_holds_the_miner_id(home, orchestrator):
    miner = "miner-abcdef123456"
    from tests.support.orchestrator import Reply

    orchestrator.behaviour = Reply(404, {"detail": f"Miner {miner} not found"})
    code = (
        "import sys; from polaris_tray.core.heartbeat.sender import BeatSender; "
        "from polaris_tray.core.storage.history import HistoryStore; "
        f"e = BeatSender({orchestrator.url!r}, {miner!r}); h = HistoryStore(); "
        "[h.record(e.attempt()) for _ in range(3)]; h.close()"
    )
    subprocess.run([sys.executable, "-c", code], env=app_env(home), cwd=ROOT, check=True, timeout=30)
    db = home / ".local/state/polaris-tray/history.sqlite3"
    assert db.exists()
    assert HistoryStore(db).count() == 3
    assert files_containing(home, miner) == []


def test_diagnostics_mask_the_miner_id(qtbot, orchestrator, tmp_path):
    """The real path: a worker beats with a real id against a server that echoes it back in its error;
    the snapshot and the recorded history it produces feed diagnostics, which must not hold the id."""
    from polaris_tray.core.heartbeat.runner import MinerId
    from polaris_tray.gui.beat.worker import WorkerConfig
    from tests.support.worker import make_worker, stop_worker

    miner = "f3a9c2d4e5b6a7980123"
    orchestrator.behaviour = Reply(404, {"detail": f"Miner {miner} not found"})
    history = tmp_path / "history.sqlite3"
    config = WorkerConfig(orchestrator.url, 30.0, history=str(history))
    thread, worker, _relay = make_worker(config, MinerId(miner, "keyring"))
    try:
        with qtbot.waitSignal(
            worker.relay.snapshot, timeout=5000, check_params_cb=lambda s: s.last_outcome is not None
        ) as blocker:
            thread.start()
    finally:
        stop_worker(thread, worker)
    snap = blocker.args[0]
    assert snap.miner_tag  # diagnostics show the current miner's rows, as the controller reads them
    recent = HistoryStore(history, readonly=True).recent(20, miner=snap.miner_tag)
    text = diagnostics_text(snap, Settings(), recent, qt_version="6.12", now_wall=time.time())
    assert len(recent) == 1 and "not found" in text  # the echoing reply made it into the text...
    assert miner not in text and miner[:5] not in text  # ...without the id, whole or in part
    assert f"Miner id: {mask_secret(miner)} (from keyring)" in text
    assert "Polaris Tray" in text and "Qt 6.12" in text and "interval_s: 30" in text


def test_status_window_on_seeded_history(qtbot, tmp_path):
    from polaris_tray.gui.status.window import StatusWindow

    now = time.time()
    store = seeded(tmp_path / "h.sqlite3", now)
    window = StatusWindow(store, diagnostics=lambda: "diagnostics text")
    qtbot.addWidget(window)
    window.show_snapshot(
        Snapshot(
            LinkState.RETRYING,
            "https://orchestrator.example/api/v1",
            "f3a9…",
            last_success_wall=now - 20,
            next_attempt_wall=now + 4,
            last_outcome=E500,
        )
    )
    window.show()
    assert window.table.rowCount() == 50
    assert window.table.item(0, 1).text() == "accepted"
    assert "last hour" in window.ratios.text() and "%" in window.ratios.text()
    assert 179 <= len(window.chart._attempts) <= 184  # one every 20 s: the chart's hour to the minute, +45 s
    assert window.headline.text().startswith("Retrying")
    assert "Next attempt: in 4 s" in window.details.text()
    assert "f3a9…" in window.details.text()
    assert window.copy_diagnostics() == "diagnostics text"
    window.grab().save(str(ARTIFACTS / "status-window-seeded.png"))


@pytest.mark.gui
def test_demo_turns_the_tray_green_with_no_account(home, x_display):
    from tests.support.gui import gui_env, stop, wait_colour
    from tests.support.screen import tray_colour

    proc = subprocess.Popen(
        [sys.executable, "-m", "polaris_tray", "--demo"],
        cwd=ROOT,
        env=gui_env(home, x_display, miner_id=None),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_colour(x_display, "green", 10)
    finally:
        stop(proc)
    assert tray_colour(x_display.display) is None
    assert not (home / ".config" / "polaris-tray").exists()


def test_status_window_during_a_live_demo_run(qtbot, home):
    from PySide6.QtWidgets import QApplication

    from polaris_tray.core.config.run_plan import LaunchOptions, Overrides
    from polaris_tray.gui.controller import AppController
    from polaris_tray.gui.single_instance import SingleInstance

    options = LaunchOptions(Overrides(interval_s=0.2), demo=True)
    controller = AppController(QApplication.instance(), options, SingleInstance())
    controller.worker_thread.start()
    try:
        window = controller.windows.open_status()
        qtbot.waitUntil(lambda: window.table.rowCount() >= 5, timeout=10000)
        assert window.table.item(0, 1).text() == "accepted"
        assert window.headline.text() == "Online (demo)"
        assert "demo…" in window.details.text()
        assert "100.0 %" in window.ratios.text()
        window.grab().save(str(ARTIFACTS / "status-window-demo.png"))
    finally:
        controller.lifecycle.quit()
    assert not (home / ".config" / "polaris-tray").exists()


@pytest.mark.parametrize("writers", [1, 8])
def test_writers_and_readers_can_open_a_new_history_at_the_same_moment(tmp_path, writers):
    """The worker writing while the status window reads; even several writers on a fresh file get in."""
    import threading

    path = tmp_path / "state" / "history.sqlite3"
    if writers == 1:
        HistoryStore(path).close()  # as the app does before its worker starts
    barrier = threading.Barrier(8)
    errors = []

    def work(n):
        try:
            barrier.wait()
            if n < writers:
                store = HistoryStore(path)
                for _ in range(20):
                    store.record(OK)
            else:
                store = HistoryStore(path, readonly=True)
                for _ in range(20):
                    store.success_ratio(3600)
                    store.recent(50)
            store.close()
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert HistoryStore(path).count() == 20 * writers
