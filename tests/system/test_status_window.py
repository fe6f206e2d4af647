"""The status window answers "am I being paid?": uptime as the orchestrator counts it, per miner, on a
scripted session written by the real HistoryStore and read by the real window (pytest-qt, fake clock)."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton

from polaris_tray.core.status.snapshot import Snapshot, tooltip
from polaris_tray.core.status.uptime_cache import UptimeCache, with_uptime
from polaris_tray.core.storage.history import HistoryStore
from polaris_tray.core.values.link_state import LinkState
from polaris_tray.core.values.outcome import Outcome
from tests.support.history import MINER, OK, REFUSED, TLS, scripted_session

T0 = 1_700_000_000.0


def window_on(qtbot, store, now, snap):
    from polaris_tray.gui.status.window import StatusWindow

    window = StatusWindow(store, diagnostics=lambda: "text", clock=lambda: now)
    qtbot.addWidget(window)
    window.show_snapshot(snap)
    window.show()
    return window


@pytest.mark.parametrize(
    ("goodbye", "expected"),
    [
        (True, "83.3 %"),  # covered 0-600 and 780-1080: 900 s of 1080 s
        (False, "87.0 %"),  # no goodbye: the last beat (595 s) still covers 45 s: 0-640, 780-1080 (940 s)
    ],
)
def test_uptime_figure_matches_the_hand_computation(qtbot, tmp_path, goodbye, expected):
    path = tmp_path / "h.sqlite3"
    clock = [T0]
    writer = HistoryStore(path, clock=lambda: clock[0])
    now = scripted_session(writer, T0, goodbye=goodbye)
    clock[0] = now
    reader = HistoryStore(path, clock=lambda: clock[0], readonly=True)
    tag = reader.tag(MINER)
    snap = Snapshot(LinkState.ONLINE, "https://o.example/api/v1", "mine…", last_outcome=OK, miner_tag=tag)
    window = window_on(qtbot, reader, now, snap)
    assert window.uptime.text() == f"Uptime, last hour: {expected}"
    assert "history: 18 min" in window.uptime_more.text()
    tray = with_uptime(snap, lambda: reader, UptimeCache(), now)
    assert f"Uptime, last hour: {expected}" in tooltip(tray, now)


def test_another_miner_sees_none_of_these_rows(qtbot, tmp_path):
    path = tmp_path / "h.sqlite3"
    now = scripted_session(HistoryStore(path, clock=lambda: T0), T0)
    reader = HistoryStore(path, readonly=True)
    other = Snapshot(LinkState.CONNECTING, "https://o/api/v1", "othe…", miner_tag=reader.tag("another-id"))
    window = window_on(qtbot, reader, now, other)
    assert window.table.rowCount() == 0
    assert window.uptime.text() == "Uptime, last hour: —"
    window.show_snapshot(Snapshot(LinkState.ONLINE, "https://o/api/v1", "mine…", miner_tag=reader.tag(MINER)))
    assert window.table.rowCount() == 50


def test_the_chart_appends_instead_of_redrawing(qtbot, tmp_path):
    path = tmp_path / "h.sqlite3"
    clock = [T0]
    writer = HistoryStore(path, clock=lambda: clock[0])
    now = scripted_session(writer, T0)
    reader = HistoryStore(path, readonly=True)
    t = [now + 1]  # early in a minute: the next beats do not roll it
    from polaris_tray.gui.status.window import StatusWindow

    window = StatusWindow(reader, clock=lambda: t[0])
    qtbot.addWidget(window)
    window.show_snapshot(Snapshot(LinkState.ONLINE, "https://o/api/v1", "m…", miner_tag=reader.tag(MINER)))
    window.show()
    window.chart.grab()
    drawn = window.chart.full_redraws
    for i in range(5):
        writer.record(OK, at=now + 2 + i, miner_id=MINER)
        writer.count()  # waits for the writer thread: the row is in the file the reader reads
        t[0] = now + 2 + i
        window.refresh_history()
        window.chart.grab()
    assert window.chart.full_redraws == drawn  # five new points, no full redraw
    assert window.chart._drawn == len(window._recent.rows)
    t[0] = now + 3000  # minutes rolled: the rows of the first 7 minutes fall out of the hour
    window.refresh_history()
    window.chart.grab()
    assert window.chart.full_redraws == drawn + 1
    fresh = StatusWindow(reader, clock=lambda: t[0])  # what a window opened now reads from scratch
    qtbot.addWidget(fresh)
    fresh.show_snapshot(window._snapshot)
    fresh.show()
    assert window._recent.rows == fresh._recent.rows  # old rows dropped on the roll, none missed
    assert window._recent.rows[0].at > T0 + 300
    hour = (t[0] - 3600, t[0])
    assert window._recent.coverage.spans(*hour) == fresh._recent.coverage.spans(*hour)
    assert window.uptime.text() == fresh.uptime.text()


def test_the_attempts_table_uses_the_windows_height(home, tmp_path, x_display):
    """Six rows and a scroll bar while space remained below: on a real display, a taller window shows more
    rows, and no scroll bar while every row fits (by the widgets' geometry, in the window's own process)."""
    import json

    from tests.support.app import run_support_script

    env = {"DISPLAY": x_display.display, "QT_QPA_PLATFORM": "xcb"}
    args = (str(tmp_path / "h.sqlite3"), "12", "520", "740")
    said = run_support_script("status_table_on_screen.py", *args, env=env)
    seen = {int(h): tuple(v) for h, v in json.loads(said).items()}
    (short_rows, short_bar), (tall_rows, tall_bar) = seen[520], seen[740]
    assert tall_rows > short_rows > 6, seen  # the free height shows more rows
    assert short_bar, seen  # 12 rows do not fit the short window: the table scrolls
    assert tall_rows == 12 and not tall_bar, seen  # every row fits: no scroll bar


def test_red_and_unconfigured_states_offer_the_fix(qtbot, tmp_path):
    reader = HistoryStore(tmp_path / "h.sqlite3")
    long_error = "The server's certificate could not be verified: " + "x" * 200
    tls = Outcome(TLS.kind, error=long_error, reason=TLS.reason)
    window = window_on(qtbot, reader, T0, Snapshot(LinkState.ATTENTION, "https://o/api/v1", last_outcome=tls))
    assert window.action.isVisible() and window.action.text() == "&Open settings"
    assert window.headline.text() == "Needs attention"
    assert window.problem.text() == long_error and window.problem.wordWrap()  # wrapped whole, never cut
    assert window.problem.toolTip().endswith("x" * 200)
    with qtbot.waitSignal(window.settings_requested):
        window.action.click()
    window.show_snapshot(Snapshot(LinkState.UNCONFIGURED, "https://o/api/v1"))
    assert window.action.text() == "E&nter miner id…" and not window.toggle.isEnabled()
    window.show_snapshot(Snapshot(LinkState.ONLINE, "https://o/api/v1"))
    assert not window.action.isVisible()


def test_offline_for_a_server_fault_offers_the_doctor_not_the_settings(qtbot, tmp_path, monkeypatch):
    """Red "Offline" after HTTP 500s offered "Open settings", as if the settings were wrong (walk)."""
    from polaris_tray.core.values.outcome import OutcomeKind

    reader = HistoryStore(tmp_path / "h.sqlite3")
    e500 = Outcome(OutcomeKind.SERVER_ERROR, 500, error="Server error (HTTP 500: db down).")
    window = window_on(qtbot, reader, T0, Snapshot(LinkState.OFFLINE, "https://o/api/v1", last_outcome=e500))
    assert window.action.isVisible() and window.action.text() == "Find out &why…"
    asked = []
    monkeypatch.setattr(window, "diagnose", lambda: asked.append("doctor"))
    window.settings_requested.connect(lambda: asked.append("settings"))
    window.action.click()
    assert asked == ["doctor"]


def test_red_before_any_count_says_its_error_once(qtbot, tmp_path):
    """The headline said "Not counted online yet — <error>; retrying" and "Last error: <error>" below it."""
    reader = HistoryStore(tmp_path / "h.sqlite3")
    error = "Could not connect to o:443: connection refused."
    refused = Outcome(REFUSED.kind, error=error, reason=REFUSED.reason)
    words = f"Not counted online yet — {error.rstrip('.')}; retrying"
    snap = Snapshot(LinkState.OFFLINE, "https://o/api/v1", last_outcome=refused, words=words)
    window = window_on(qtbot, reader, T0, snap)
    shown = [w.text() for w in window.findChildren(QLabel) if w.isVisible()]
    assert window.headline.text() == words
    assert sum(text.count("connection refused") for text in shown) == 1, shown
    amber = Snapshot(LinkState.RETRYING, "https://o/api/v1", last_outcome=refused, words="Retrying — still …")
    window.show_snapshot(amber)  # amber's headline does not say it: the error line does
    assert f"Last error: {error}" in window.details.text()


def test_keyboard_tab_reaches_every_button_and_esc_closes(qtbot, tmp_path):
    reader = HistoryStore(tmp_path / "h.sqlite3")
    window = window_on(qtbot, reader, T0, Snapshot(LinkState.ATTENTION, "https://o/api/v1", last_outcome=TLS))
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    reached = set()
    for _ in range(12):
        qtbot.keyClick(window.focusWidget() or window, Qt.Key.Key_Tab)
        reached.add(window.focusWidget())
    buttons = {b for b in window.findChildren(QPushButton) if b.isVisible()}
    assert buttons <= reached, [b.text() for b in buttons - reached]
    assert window.windowTitle() == "Status"
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert not window.isVisible()


def test_fits_a_small_screen(qtbot, tmp_path):
    window = window_on(qtbot, HistoryStore(tmp_path / "h.sqlite3"), T0, Snapshot(LinkState.STOPPED, "u"))
    minimum = window.minimumSizeHint().expandedTo(window.minimumSize())
    assert minimum.width() <= 600 and minimum.height() <= 330  # 640x360: 1280x720 at scale 2


def stop_warning():
    """The Stop warning on screen, found as the user sees it: the visible top-level box named stopWarning."""
    from PySide6.QtWidgets import QApplication

    shown = [w for w in QApplication.topLevelWidgets() if w.objectName() == "stopWarning" and w.isVisible()]
    assert len(shown) <= 1
    return shown[0] if shown else None


class _Stopper:
    """What the stop warning is given: the snapshot, the settings in force and how to keep them, and Stop."""

    def __init__(self, store, state=LinkState.ONLINE):
        from polaris_tray.gui.stop_warning import StopGuard

        self.snapshot = Snapshot(state, "https://o/api/v1")
        self.store, self.settings, self.stops = store, store.load().settings, 0
        self.guard = StopGuard(lambda: self.snapshot, lambda: self.settings, self.keep, self.stop)

    def keep(self, settings):
        self.settings = settings
        self.store.save(settings)

    def stop(self):
        self.stops += 1


def test_stop_warns_until_told_not_to_ask_again_and_remembers_it(qtbot, tmp_path):
    from polaris_tray.core.config.settings import SettingsStore

    store = SettingsStore(tmp_path / "config")
    ctl = _Stopper(store)
    ctl.guard.ask()
    box = stop_warning()
    assert ctl.stops == 0 and "offline within 45 s" in box.text()
    assert box.defaultButton().text() == "&Keep running"  # Enter keeps the miner counted
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert ctl.stops == 0 and not box.isVisible()
    ctl.guard.ask()
    qtbot.keyClick(stop_warning(), Qt.Key.Key_Escape)  # Esc too
    assert ctl.stops == 0 and stop_warning() is None
    ctl.guard.ask()
    stop_warning().checkBox().setChecked(True)
    stop = next(b for b in stop_warning().buttons() if b.text() == "&Stop heartbeat")
    stop.click()
    assert ctl.stops == 1 and ctl.settings.warn_on_stop is False
    assert store.load().settings.warn_on_stop is False  # persisted with the settings
    again = _Stopper(store)
    again.guard.ask()
    assert again.stops == 1 and stop_warning() is None  # not asked again
    stopped = _Stopper(SettingsStore(tmp_path / "fresh"), LinkState.OFFLINE)  # counted offline already:
    stopped.guard.ask()  # nothing to warn about, though this store still warns
    assert stopped.stops == 1 and stop_warning() is None


def test_the_apps_stop_warning_keeps_dont_ask_again_in_force_and_saved(qtbot, home):
    """The real controller: "Don't ask again" is in force at once and saved with the other settings."""
    from PySide6.QtWidgets import QApplication

    from polaris_tray.core.config.run_plan import LaunchOptions
    from polaris_tray.core.config.settings import SettingsStore
    from polaris_tray.gui.controller import AppController
    from polaris_tray.gui.single_instance import SingleInstance

    controller = AppController(QApplication.instance(), LaunchOptions(), SingleInstance())
    try:
        controller.snapshot = Snapshot(LinkState.ONLINE, "https://o/api/v1")
        controller.stop_guard.ask()
        stop_warning().checkBox().setChecked(True)
        next(b for b in stop_warning().buttons() if b.text() == "&Stop heartbeat").click()
        assert controller.settings.warn_on_stop is False and controller._stop_pending
        assert SettingsStore().load().settings.warn_on_stop is False
    finally:
        controller.lifecycle.quit()


def test_quit_before_the_worker_started_closes_its_connections(qtbot, home):
    """A start-up that fails before the worker's thread runs: Quit still ends the runner, and the sender's
    connections (and the deadline thread that serves them) do not outlive the controller."""
    import threading

    from PySide6.QtWidgets import QApplication

    from polaris_tray.core.config.run_plan import LaunchOptions
    from polaris_tray.core.heartbeat.transport import DEADLINE_WATCH
    from polaris_tray.gui.controller import AppController
    from polaris_tray.gui.single_instance import SingleInstance

    controller = AppController(QApplication.instance(), LaunchOptions(), SingleInstance())
    assert any(t.name == "heartbeat-deadline" for t in threading.enumerate())  # the sender's poster is open
    controller.lifecycle.quit()
    DEADLINE_WATCH.join(5)
    assert not any(t.name == "heartbeat-deadline" for t in threading.enumerate())


def test_a_live_demo_run_reports_what_is_in_use(qtbot, home):
    """The real controller and worker: rows tagged with the miner, uptime in the tooltip, diagnostics of
    the demo's own server and interval (not the saved settings)."""
    from PySide6.QtWidgets import QApplication

    from polaris_tray.core.config.run_plan import LaunchOptions, Overrides
    from polaris_tray.core.config.settings import Settings
    from polaris_tray.demo.server import DEMO_MINER_ID
    from polaris_tray.gui.controller import AppController
    from polaris_tray.gui.single_instance import SingleInstance

    options = LaunchOptions(Overrides(interval_s=0.2), demo=True)
    controller = AppController(QApplication.instance(), options, SingleInstance())
    controller.worker_thread.start()
    try:
        window = controller.windows.open_status()
        qtbot.waitUntil(lambda: window.table.rowCount() >= 3, timeout=10000)
        snap = controller.snapshot
        assert snap.miner_tag and snap.uptime_hour is not None
        assert "Uptime, last hour:" in controller.tray.icon.toolTip()
        assert window.uptime.text().startswith("Uptime, last hour: ")
        assert window.windowTitle() == "Status (demo)"
        text = controller.diagnostics()
        used = text.split("In use:")[1].split("Saved settings:")[0]
        assert controller.demo.url in used and "interval_s: 0.2" in used and "mode: demo" in used
        assert Settings().server_url not in used
        assert DEMO_MINER_ID not in text
        controller.request_stop()  # a healthy stop says goodbye; the row ends coverage at once
        reader = controller.history_reader()

        def goodbye_recorded():
            return any(a.goodbye and a.ok for a in reader.recent(5, miner=snap.miner_tag))

        qtbot.waitUntil(goodbye_recorded, timeout=5000)
    finally:
        controller.lifecycle.quit()


@pytest.mark.parametrize("scale", [1, 2])
def test_every_state_fits_a_1280x720_screen_and_is_saved_as_a_screenshot(tmp_path, scale):
    """Rendered in its own process (the scale factor is read at Qt start) on a 1280x720 offscreen screen."""
    import json
    import os
    import subprocess
    import sys

    from tests.support.app import ARTIFACTS, ROOT

    config = tmp_path / "screen.json"
    screen = {"name": "s0", "x": 0, "y": 0, "width": 1280, "height": 720, "logicalDpi": 96, "dpr": 1}
    config.write_text(json.dumps({"screens": [screen]}))
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": f"offscreen:configfile={config}",
        "QT_SCALE_FACTOR": str(scale),
        "HOME": str(tmp_path),
    }
    out = subprocess.run(
        [sys.executable, "-m", "tests.support.render_status", str(ARTIFACTS), f"{scale * 100}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    lines = [line.split() for line in out.splitlines()]
    assert [line[0] for line in lines] == [
        "online",
        "amber",
        "red",
        "red-long",
        "unconfigured",
        "stopped",
        "demo",
    ]
    for name, width, height, min_w, min_h, screen_w, screen_h, bars, cut, *_title in lines:
        assert (int(screen_w), int(screen_h)) == (1280 // scale, 720 // scale)
        assert int(width) <= int(screen_w) and int(height) <= int(screen_h) - 40  # room for a panel
        assert int(min_w) <= int(width) and int(min_h) <= int(height)
        assert bars == "-", f"{name}: a scroll bar shows in {bars}"
        assert cut == "-", f"{name}: cut off: {cut}"
    assert (ARTIFACTS / f"status-red-{scale * 100}.png").exists()


def test_uptime_falls_while_stopped_without_new_rows(qtbot, tmp_path):
    path = tmp_path / "h.sqlite3"
    now = scripted_session(HistoryStore(path, clock=lambda: T0), T0)
    reader = HistoryStore(path, readonly=True)
    t = [now]
    from polaris_tray.gui.status.window import QUIET_REFRESH_S, StatusWindow

    window = StatusWindow(reader, clock=lambda: t[0])
    qtbot.addWidget(window)
    window.show_snapshot(Snapshot(LinkState.STOPPED, "https://o/api/v1", miner_tag=reader.tag(MINER)))
    window.show()
    assert window.uptime.text() == "Uptime, last hour: 83.3 %"
    t[0] = now + 1080  # 18 min later, no beats: 945 s covered (900 + the last beat's 45 s) of 2160 s
    window._last_refresh -= QUIET_REFRESH_S
    window._tick()
    assert window.uptime.text() == "Uptime, last hour: 43.8 %"


def test_with_under_an_hour_of_history_24_h_and_7_days_say_what_the_hour_says(qtbot, tmp_path):
    """With 20 minutes of history the window once showed 63.3 % for the hour beside 69.7 % for 24 h and
    7 days (the longer windows were kept for a minute while the hour moved on). With all history inside the
    hour, the three windows cover the same span, so they must agree at every refresh."""
    from polaris_tray.gui.status.window import StatusWindow

    path = tmp_path / "h.sqlite3"
    writer = HistoryStore(path, clock=lambda: T0)
    now = scripted_session(writer, T0)
    reader = HistoryStore(path, readonly=True)
    t = [now]
    window = StatusWindow(reader, clock=lambda: t[0])
    qtbot.addWidget(window)
    window.show_snapshot(Snapshot(LinkState.RETRYING, "https://o/api/v1", miner_tag=reader.tag(MINER)))
    window.show()
    for at in range(int(now) + 5, int(now) + 35, 5):  # 30 s of failures: the hour's figure falls
        writer.record(Outcome(TLS.kind, error=TLS.error, reason=TLS.reason), at=float(at), miner_id=MINER)
    writer.count()
    t[0] = now + 30
    window.refresh_history()
    hour = window.uptime.text().split(": ")[1]
    assert window.uptime_more.text().startswith(f"24 h: {hour} · 7 days: {hour} · history: ")
