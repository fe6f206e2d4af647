"""The settings dialog with pytest-qt: validation, saving, the running worker, test connection, keyring."""

import json
import time

import pytest
from PySide6.QtCore import Qt

from polaris_tray.core.config.run_plan import LaunchOptions, check_overrides
from polaris_tray.core.config.secret_store import SecretStore
from polaris_tray.core.config.settings import Settings, SettingsStore
from polaris_tray.core.platform.autostart.xdg import XdgAutostart
from polaris_tray.core.values.link_state import LinkState
from polaris_tray.gui.settings.dialog import SettingsDialog
from tests.support.app import ARTIFACTS, run_support_script
from tests.support.orchestrator import Orchestrator, Reply

MINER = "f3a9c1d2-7b44-4e0e-9d7e-5a1b2c3d4e5f"


class MemoryStore:
    """A secret store double for the tests that are not about the keyring."""

    def __init__(self, value=None):
        self.value = value

    def get(self):
        return self.value

    def set(self, value):
        self.value = value


@pytest.fixture
def dialog(qtbot, home):
    store = SettingsStore()
    d = SettingsDialog(store, XdgAutostart(), secret_store=MemoryStore(MINER))
    d.load(Settings(), miner_masked="f3a9…")
    qtbot.addWidget(d)
    d.show()
    return d


def test_url_is_validated_as_you_type(qtbot, dialog):
    dialog.url_edit.clear()
    qtbot.keyClicks(dialog.url_edit, "http://example.org/api")
    assert dialog.url_reason.isVisible()
    assert "only allowed for this computer" in dialog.url_reason.text()
    assert not dialog.ok_button.isEnabled() and not dialog.apply_button.isEnabled()
    dialog.grab().save(str(ARTIFACTS / "settings-invalid.png"))
    dialog.url_edit.setText("https://example.org/api/v1")
    assert not dialog.url_reason.isVisible() and dialog.ok_button.isEnabled()
    dialog.grab().save(str(ARTIFACTS / "settings.png"))


def test_invalid_values_cannot_be_saved(qtbot, dialog, home):
    dialog.url_edit.setText("http://example.org")
    dialog._apply()
    assert not (home / ".config/polaris-tray/settings.json").exists()
    dialog.url_edit.setText("https://example.org")
    dialog.miner_edit.setText("has space")
    assert not dialog.ok_button.isEnabled()
    assert "spaces" in dialog.miner_note.text()


def test_interval_range_is_the_saved_range_of_limits(dialog):
    """One place says what a saved interval may be (core/config/limits.py): the spin box reads it."""
    from polaris_tray.core.config.limits import (
        DEFAULT_INTERVAL_S,
        SAVED_INTERVAL_MAX_S,
        SAVED_INTERVAL_MIN_S,
    )

    assert dialog.interval_spin.minimum() == SAVED_INTERVAL_MIN_S == 10
    assert dialog.interval_spin.maximum() == SAVED_INTERVAL_MAX_S == 30
    assert dialog.interval_spin.value() == DEFAULT_INTERVAL_S


def test_a_longer_interval_of_this_run_is_shown_unclamped_and_left_alone_by_ok(qtbot, home):
    """--interval keeps its wide range for one run: the field shows it as it is, and OK without a change
    neither saves it nor drops it (a clamped field would have looked like a change)."""
    from polaris_tray.core.config.limits import SAVED_INTERVAL_MAX_S

    longer = SAVED_INTERVAL_MAX_S * 2
    overrides = {"server_url": None, "interval_s": longer}
    d = SettingsDialog(SettingsStore(), XdgAutostart(), secret_store=MemoryStore(MINER))
    qtbot.addWidget(d)
    d.load(Settings(), overrides, miner_masked="f3a9…")
    assert d.interval_spin.value() == longer
    d._ok()
    assert overrides["interval_s"] == longer and SettingsStore().load().settings.interval_s == 30


def test_a_longer_run_interval_shows_as_is_and_ok_keeps_it(qtbot, home):
    """--interval 120 for this run: the box shows 120 (not clamped to 30), and Apply leaves the run on it."""
    d = SettingsDialog(SettingsStore(), XdgAutostart(), secret_store=MemoryStore(MINER))
    qtbot.addWidget(d)
    overrides = {"server_url": None, "interval_s": 120.0}  # as the controller keeps them
    d.load(Settings(), overrides, miner_masked="f3a9…")
    assert d.interval_spin.value() == 120
    d._apply()
    assert overrides["interval_s"] == 120.0  # unchanged by the user: the override stands


def test_keyboard_mnemonics_and_accessible_names(dialog):
    for widget in (dialog.url_edit, dialog.miner_edit, dialog.interval_spin, dialog.level_combo):
        assert widget.accessibleName()
    texts = [
        dialog.start_on_launch.text(),
        dialog.start_at_login.text(),
        dialog.notify_box.text(),
        dialog.test_button.text(),
        dialog.import_button.text(),
    ]
    assert all("&" in t for t in texts)
    assert dialog.focusWidget() is dialog.miner_edit  # typing at once goes into the id
    dialog.advanced_toggle.click()  # server, interval and log level open
    order = []
    widget = dialog.miner_edit
    for _ in range(60):  # walk the chain the way Tab does: only visible widgets that take tab focus
        widget = widget.nextInFocusChain()
        inner = order and widget.parent() is order[-1]  # a spin box's own line edit
        if (
            widget.isVisible()
            and widget.isEnabled()
            and widget.focusPolicy() & Qt.FocusPolicy.TabFocus
            and not inner
        ):
            order.append(widget)
        if widget is dialog.miner_edit:
            break
    expected = [
        dialog.show_button,
        dialog.import_button,
        dialog.start_on_launch,
        dialog.start_at_login,
        dialog.notify_box,
        dialog.advanced_toggle,
        dialog.url_edit,
        dialog.interval_spin,
        dialog.level_combo,
        dialog.test_button,
    ]
    assert order[: len(expected)] == expected


def test_show_toggle_reveals_the_typed_id(qtbot, dialog):
    from PySide6.QtWidgets import QLineEdit

    assert dialog.miner_edit.echoMode() is QLineEdit.EchoMode.Password
    qtbot.mouseClick(dialog.show_button, Qt.MouseButton.LeftButton)
    assert dialog.miner_edit.echoMode() is QLineEdit.EchoMode.Normal


def test_import_reads_only_the_miner_id(dialog, tmp_path):
    legacy = tmp_path / "user_info.json"
    legacy.write_text(json.dumps({"miner_id": MINER, "network_info": {"ssh_password": "hunter2"}}))
    assert dialog.import_from(legacy)
    assert dialog.miner_edit.text() == MINER
    bad = tmp_path / "other.json"
    bad.write_text("{}")
    assert not dialog.import_from(bad)


def _controller(qtbot, url, interval="0.2"):
    from PySide6.QtWidgets import QApplication

    from polaris_tray.gui.controller import AppController
    from polaris_tray.gui.single_instance import SingleInstance

    options = LaunchOptions(check_overrides(url, interval))
    controller = AppController(QApplication.instance(), options, SingleInstance())
    controller.worker_thread.start()
    return controller


def _wait_state(qtbot, controller, predicate, timeout=5000):
    qtbot.waitUntil(
        lambda: controller.snapshot is not None and predicate(controller.snapshot), timeout=timeout
    )


def test_applied_settings_reach_the_running_worker_without_restart(qtbot, home, orchestrator, monkeypatch):
    monkeypatch.setenv("POLARIS_MINER_ID", MINER)
    second = Orchestrator()
    controller = _controller(qtbot, orchestrator.url)
    try:
        _wait_state(qtbot, controller, lambda s: s.state is LinkState.ONLINE)
        d = SettingsDialog(controller.store, XdgAutostart(), secret_store=MemoryStore(MINER))
        qtbot.addWidget(d)
        d.applied.connect(controller.apply_settings)
        masked = controller.snapshot.miner_id_masked
        d.load(controller.settings, controller.overrides, miner_masked=masked)  # as open_settings does
        d.url_edit.setText(second.url)
        d.interval_spin.setValue(25)
        d._apply()
        assert second.wait_for(1, timeout=5)  # the next beat goes to the new server
        _wait_state(
            qtbot,
            controller,
            lambda s: (
                s.server_url == second.url and s.next_attempt_wall and s.next_attempt_wall - time.time() > 20
            ),
        )
        saved = json.loads((home / ".config/polaris-tray/settings.json").read_text())
        assert saved["server_url"] == second.url and saved["interval_s"] == 25
        assert MINER not in json.dumps(saved)
        assert "next heartbeat" in d.status.text()
    finally:
        controller.lifecycle.quit()
        second.stop()


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (Reply(200), "Accepted in"),
        (Reply(404, {"detail": "Miner not found"}), "does not know miner f3a9… (404)"),
    ],
)
def test_test_connection_reports_the_outcome_in_words(qtbot, dialog, orchestrator, reply, expected):
    orchestrator.behaviour = reply
    dialog.url_edit.setText(orchestrator.url)
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.test_result.property("outcome") is not None, timeout=5000)
    assert expected in dialog.test_result.text()
    assert orchestrator.bodies()[0]["metrics"]["miner_id"] == MINER


def test_test_connection_reports_unreachable(qtbot, dialog):
    from tests.support.loopback import refused_url

    dialog.url_edit.setText(refused_url())
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.test_result.property("outcome") is not None, timeout=5000)
    text = dialog.test_result.text()
    assert text.startswith("Unreachable: Could not connect to 127.0.0.1:"), text
    assert "connection refused" in text, text


@pytest.mark.keyring
def test_ok_stores_the_typed_id_in_the_real_keyring(qtbot, home, keyring_env, monkeypatch):
    for key, value in keyring_env.items():
        monkeypatch.setenv(key, value)
    from keyring.backends.SecretService import Keyring

    secrets = SecretStore(backend=Keyring())
    d = SettingsDialog(SettingsStore(), XdgAutostart(), secret_store=secrets)
    qtbot.addWidget(d)
    d.load(Settings())
    d.miner_edit.setText(MINER)
    with qtbot.waitSignal(d.applied, timeout=10000) as blocker:
        d._ok()
    assert blocker.args[1] == MINER
    assert secrets.get() == MINER
    assert MINER not in (home / ".config/polaris-tray/settings.json").read_text()


def test_a_keyring_failure_keeps_what_was_typed(qtbot, home):
    class Broken:
        def set(self, value):
            from polaris_tray.core.config.secret_store import SecretStoreError

            raise SecretStoreError("The OS keyring is locked. Unlock it and try again.")

    d = SettingsDialog(SettingsStore(), XdgAutostart(), secret_store=Broken())
    qtbot.addWidget(d)
    d.load(Settings())
    d.miner_edit.setText(MINER)
    d._apply()
    qtbot.waitUntil(lambda: "not stored" in d.status.text(), timeout=5000)
    assert d.miner_edit.text() == MINER
    assert "locked" in d.status.text()


@pytest.mark.parametrize("scale", ["1", "2"])
def test_dialog_renders_at_100_and_200_percent(home, scale):
    out = ARTIFACTS / f"settings-{int(scale) * 100}pct.png"
    url = "https://polaris-test-server.onrender.com/api/v1"
    env = {"QT_SCALE_FACTOR": scale, "QT_QPA_PLATFORM": "offscreen"}
    width, height, dpr = run_support_script("render_dialog.py", str(out), url, env=env).split()
    assert float(dpr) == float(scale)
    # drawn at the scale, not stretched: the grab has the dialog's logical minimum width times the scale
    assert int(width) >= 600 * float(scale) and int(height) > 300 * float(scale)
    assert out.exists() and out.stat().st_size > 5000


@pytest.fixture(scope="module")
def small_screen():
    """Xvfb at 1280x720: 640x360 logical pixels at scale 2."""
    from tests.support.services import XDisplay

    display = XDisplay(with_tray=False, size="1280x720x24").start()
    yield display
    display.stop()


def test_with_advanced_open_the_dialog_fits_a_1280x720_screen_at_scale_2(home, small_screen):
    """Advanced open at scale 2 made the dialog taller than the screen: OK, Apply and Cancel fell off it."""
    env = {"DISPLAY": small_screen.display, "QT_QPA_PLATFORM": "xcb", "QT_SCALE_FACTOR": "2"}
    shot = str(ARTIFACTS / "settings-advanced-1280x720-200pct.png")
    seen = json.loads(run_support_script("settings_on_small_screen.py", shot, env=env))
    assert seen["dpr"] == 2.0 and seen["screen"][2:] == [640, 360], seen
    assert seen["advanced_was_closed"] and seen["advanced_open"], seen  # opened by its mnemonic
    x, y, w, h = seen["frame"]
    ax, ay, aw, ah = seen["available"]
    assert ax <= x and ay <= y and x + w <= ax + aw and y + h <= ay + ah, seen
    ox, oy, ow, oh = seen["ok"]
    assert ax <= ox and ay <= oy and ox + ow <= ax + aw and oy + oh <= ay + ah, seen
    assert seen["ok_whole"], seen
    assert seen["ok_focused"], seen  # Tab from the disclosure reaches OK
    assert seen["miner_whole"], seen  # a mnemonic scrolls the form to the field it focuses


def test_the_first_show_fits_the_screen_once_a_window_manager_frames_it(home):
    """openbox adds its title bar after the first show: before, the first fit had counted no frame, so the
    dialog stood a title bar's height past the bottom of a 1280x560 screen at scale 2, OK cut off."""
    from tests.support.services import XDisplay

    display = XDisplay(with_tray=False, size="1280x560x24").start()
    try:
        display.start_window_manager()
        env = {"DISPLAY": display.display, "QT_QPA_PLATFORM": "xcb", "QT_SCALE_FACTOR": "2"}
        seen = json.loads(run_support_script("settings_first_show.py", env=env))
    finally:
        display.stop()
    print(seen)
    assert seen["framed"], seen  # else the window manager proved nothing
    _, top, _, height = seen["frame"]
    _, room_top, _, room = seen["available"]
    assert room_top <= top and top + height <= room_top + room, seen  # the whole frame, title bar included
    _, ok_top, _, ok_height = seen["ok"]
    assert ok_top + ok_height <= room_top + room, seen
