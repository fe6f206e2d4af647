"""The first run in-process (pytest-qt): the first-run dialog takes the id typed at once and Enter saves it
with the URL untouched; a Test result never outlives the values it was made with; the status window confirms
"Online — counted by Polaris" once after the first run; Send now during a retry wait says when it goes;
the Stop question keeps running on Enter; demo Settings are enabled; the chart's last label stays whole."""

import json
import time

import pytest
from PySide6.QtCore import Qt

from polaris_tray.core.config.settings import Settings, SettingsStore
from polaris_tray.core.platform.autostart.xdg import XdgAutostart
from polaris_tray.core.status.snapshot import Snapshot
from polaris_tray.core.values.link_state import LinkState
from polaris_tray.core.values.outcome import NetworkReason, Outcome, OutcomeKind
from polaris_tray.gui.settings.dialog import SettingsDialog
from polaris_tray.gui.status.window import CONFIRM_ONLINE
from tests.system.test_first_run import real_keyring  # noqa: F401  (the fixture)
from tests.system.test_settings_dialog import MemoryStore

MINER = "f3a9c1d2-7b44-4e0e-9d7e-5a1b2c3d4e5f"
URL = "https://orchestrator.example/api/v1"
OK = Outcome(OutcomeKind.ACCEPTED, 200, latency_ms=40.0)
REFUSED = Outcome(OutcomeKind.NETWORK_ERROR, error="Connection refused.", reason=NetworkReason.REFUSED)


def first_run_dialog(qtbot, overrides=None, secrets=None):
    dialog = SettingsDialog(SettingsStore(), XdgAutostart(), secret_store=secrets or MemoryStore())
    qtbot.addWidget(dialog)
    dialog.load(Settings(), overrides, first_run=True)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitUntil(lambda: not dialog._calls, timeout=10000)  # the keyring probe has answered
    return dialog


def test_typing_at_once_goes_into_the_id_and_enter_saves_it_with_the_url_untouched(qtbot, home):
    dialog = first_run_dialog(qtbot)
    assert not dialog.advanced.isVisible() and not dialog.url_edit.isVisible()
    assert dialog.where_note.isVisible() and "polaris register" in dialog.where_note.text()
    assert "user_info.json" in dialog.where_note.text()
    applied = []
    dialog.applied.connect(lambda *a: applied.append(a))
    qtbot.keyClicks(dialog.focusWidget(), MINER)  # whatever has the focus: the user just types
    qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(applied), timeout=10000)  # the id is stored off the GUI thread
    settings, miner_id = applied[0]
    assert miner_id == MINER and settings.server_url == Settings().server_url
    assert dialog.url_edit.text() == Settings().server_url
    saved = json.loads((home / ".config/polaris-tray/settings.json").read_text())
    assert saved["server_url"] == Settings().server_url and MINER not in json.dumps(saved)
    assert dialog.form.secrets.value == MINER and not dialog.isVisible()


def test_a_server_from_the_command_line_is_offered_and_saved_by_enter(qtbot, home):
    overrides = {"server_url": "http://127.0.0.1:18040/api/v1", "interval_s": None}
    dialog = first_run_dialog(qtbot, overrides)
    assert dialog.advanced.isVisible() and dialog.url_edit.text() == overrides["server_url"]
    assert dialog.save_server.isVisible() and dialog.save_server.isChecked()
    assert dialog.focusWidget() is dialog.miner_edit
    dialog.advanced_toggle.click()  # folded away, the ticked box still means what it says
    assert not dialog.save_server.isVisible()
    dialog.miner_edit.setFocus()
    qtbot.keyClicks(dialog.focusWidget(), MINER)
    qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10000)
    assert SettingsStore().load().settings.server_url == "http://127.0.0.1:18040/api/v1"


def test_a_test_result_goes_when_the_url_or_id_changes_and_a_late_one_is_not_shown(qtbot, home, orchestrator):
    dialog = first_run_dialog(qtbot, secrets=MemoryStore(MINER))
    dialog.advanced_toggle.click()
    dialog.url_edit.setText(orchestrator.url)
    dialog.test_button.click()
    qtbot.waitUntil(lambda: dialog.test_result.text().startswith("Accepted"), timeout=10000)
    assert dialog.test_result.isVisible()
    dialog.url_edit.setText(orchestrator.url.replace("/api/v1", "/api"))
    assert not dialog.test_result.isVisible()  # "Accepted" beside a URL that was never tested: gone
    dialog.url_edit.setText(orchestrator.url)
    dialog.test_button.click()
    dialog.miner_edit.setText("another-miner-id")  # before the answer is delivered to this thread
    qtbot.waitUntil(lambda: not dialog._calls, timeout=10000)
    assert len(orchestrator.arrivals) == 2
    assert not dialog.test_result.isVisible() and dialog.test_button.isEnabled()


def test_the_status_window_confirms_online_once_after_the_first_run(qtbot, tmp_path):
    from polaris_tray.core.storage.history import HistoryStore
    from polaris_tray.gui.status.window import StatusWindow

    window = StatusWindow(HistoryStore(tmp_path / "h.sqlite3"), diagnostics=lambda: "")
    qtbot.addWidget(window)
    window.show_snapshot(Snapshot(LinkState.UNCONFIGURED, URL))
    window.show()
    assert not window.confirm.isVisible()
    window.show_snapshot(Snapshot(LinkState.ONLINE, URL, last_outcome=OK))
    assert not window.confirm.isVisible()  # green without a first run: nothing to confirm
    window.await_first_online()
    window.show_snapshot(Snapshot(LinkState.CONNECTING, URL))
    assert not window.confirm.isVisible()
    window.show_snapshot(Snapshot(LinkState.ONLINE, URL, last_outcome=OK))
    assert window.confirm.isVisible() and window.confirm.text() == CONFIRM_ONLINE
    assert window.confirm.text().startswith("Online — counted by Polaris")
    window.show_snapshot(Snapshot(LinkState.RETRYING, URL, last_outcome=REFUSED))
    assert not window.confirm.isVisible()  # never beside a state that says otherwise
    window.show_snapshot(Snapshot(LinkState.ONLINE, URL, last_outcome=OK))
    assert not window.confirm.isVisible()  # once


@pytest.mark.keyring
@pytest.mark.usefixtures("real_keyring")
def test_the_first_run_dialog_leads_to_the_confirmation_in_the_real_app(qtbot, home, orchestrator):
    from tests.support.worker import start_controller

    SettingsStore().save(Settings(server_url=orchestrator.url, interval_s=10.0))
    controller = start_controller(orchestrator.url, "10")
    try:
        qtbot.waitUntil(
            lambda: controller.snapshot is not None and controller.snapshot.state is LinkState.UNCONFIGURED,
            timeout=10000,
        )
        controller.windows.open_settings(first_run=True)
        dialog = controller.windows.settings_dialog
        qtbot.keyClicks(dialog.miner_edit, MINER)
        qtbot.keyClick(dialog.miner_edit, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: controller.windows.status_window is not None, timeout=10000)
        window = controller.windows.status_window
        qtbot.waitUntil(window.confirm.isVisible, timeout=10000)
        assert controller.snapshot.state is LinkState.ONLINE and window.isVisible()
    finally:
        controller.lifecycle.quit()


def test_the_status_window_settings_button_is_enabled_in_demo_mode(qtbot, tmp_path):
    from polaris_tray.gui.status.window import StatusWindow

    window = StatusWindow(None, diagnostics=lambda: "", demo=True)
    qtbot.addWidget(window)
    window.show_snapshot(Snapshot(LinkState.ONLINE, "http://127.0.0.1:1/api/v1", "demo…"))
    assert window.settings_button.isEnabled()  # as the menu's: the dialog opens read-only
    with qtbot.waitSignal(window.settings_requested):
        window.settings_button.click()


def test_send_now_in_a_retry_wait_says_when_it_will_go(qtbot):
    from polaris_tray.gui.tray.icon import TrayIcon

    tray = TrayIcon()
    told = []
    tray.send_now_waits.connect(told.append)
    now = time.time()
    tray.show_snapshot(Snapshot(LinkState.RETRYING, URL, "f3a9…", now - 20, now + 11, REFUSED))
    with qtbot.waitSignal(tray.beat_now_requested):  # the request still goes to the worker
        tray.beat_action.trigger()
    at = time.strftime("%H:%M:%S", time.localtime(now + 11))
    assert told == [f"Sending at {at} — waiting for the retry window"]
    tray.show_snapshot(Snapshot(LinkState.ONLINE, URL, "f3a9…", now, now + 25, OK))
    tray.beat_action.trigger()
    assert len(told) == 1  # healthy: it goes at once, nothing to explain


def test_the_status_window_says_when_send_now_goes_until_the_attempt_happens(
    qtbot, home, monkeypatch, orchestrator
):
    """The real controller: the tray's answer opens the status window with the words; the next attempt's
    snapshot (a new outcome) takes them away."""
    from tests.support.orchestrator import Reply
    from tests.support.worker import start_controller

    monkeypatch.setenv("POLARIS_MINER_ID", MINER)
    orchestrator.behaviour = Reply(503)  # failing: a retry wait follows
    controller = start_controller(orchestrator.url, "10")
    try:
        qtbot.waitUntil(
            lambda: controller.snapshot is not None and controller.snapshot.last_outcome is not None,
            timeout=10000,
        )
        words = "Sending at 14:02:31 — waiting for the retry window"
        controller.tray.send_now_waits.emit(words)
        window = controller.windows.status_window
        assert window is not None and window.isVisible()
        assert window.send_note.isVisible() and window.send_note.text() == words
        window.show_snapshot(controller.snapshot)  # the same attempt: still waiting
        assert window.send_note.isVisible()
        window.show_snapshot(Snapshot(LinkState.RETRYING, URL, last_outcome=REFUSED))  # a new attempt
        assert not window.send_note.isVisible()
    finally:
        controller.lifecycle.quit()


def test_the_menu_header_does_not_grow_between_snapshots_of_one_state(qtbot):
    """xfce4-panel laid the menu out once and cut "Last accepted: 1 s ag": the header is set before the
    first opening and names a clock time, so it has one width for the whole state."""
    from polaris_tray.gui.tray.icon import TrayIcon

    tray = TrayIcon()
    now = time.time()
    tray.show_snapshot(Snapshot(LinkState.ONLINE, URL, "f3a9…", now, now + 25, OK))
    first = tray.status_action.text()  # set without the menu ever opening
    assert first.startswith("Online · last accepted ") and "ago" not in first
    tray.show_snapshot(Snapshot(LinkState.ONLINE, URL, "f3a9…", now, now + 12, OK))
    tray.refresh_menu()
    assert tray.status_action.text() == first


def test_the_chart_keeps_its_last_time_label_inside(qtbot):
    from polaris_tray.gui.status.latency_chart import LatencyChart

    chart = LatencyChart()
    qtbot.addWidget(chart)
    chart.resize(500, 150)
    for x in (0.0, 3.0, 250.0, 497.0, 500.0):
        rect = chart.tick_label_rect(x, 120)
        assert rect.left() >= 0 and rect.right() <= chart.width(), x
        assert rect.width() >= chart.fontMetrics().horizontalAdvance("00:00")


def test_stop_question_defaults_to_keep_running(qtbot, tmp_path):
    from polaris_tray.core.config.settings import SettingsStore as Store
    from tests.system.test_status_window import _Stopper, stop_warning

    ctl = _Stopper(Store(tmp_path / "config"))
    ctl.guard.ask()
    qtbot.keyClick(stop_warning(), Qt.Key.Key_Return)
    assert ctl.stops == 0 and stop_warning() is None


def test_copy_diagnostics_and_the_window_name_the_whole_server_url(qtbot, home, orchestrator, monkeypatch):
    """A wrong path ("/api" for "/api/v1") must be visible where a user looks and in what they send."""
    from PySide6.QtGui import QGuiApplication

    from tests.support.worker import start_controller

    monkeypatch.setenv("POLARIS_MINER_ID", MINER)
    url = orchestrator.url.replace("/api/v1", "/api")
    controller = start_controller(url, "10")
    try:
        qtbot.waitUntil(
            lambda: controller.snapshot is not None and controller.snapshot.running, timeout=10000
        )
        window = controller.windows.open_status()
        assert f"Server: {url}" in window.details.text().replace("\u200b", "")
        text = window.copy_diagnostics()
        assert f"server_url: {url}" in text and QGuiApplication.clipboard().text() == text
        assert MINER not in text
    finally:
        controller.lifecycle.quit()
