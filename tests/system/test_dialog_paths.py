"""Every settings-dialog path with pytest-qt, the menu's bounds and mnemonics, About, and the screenshots."""

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit

from polaris_tray.core.config.run_plan import LaunchOptions, check_overrides
from polaris_tray.core.config.secret_store import SecretStore
from polaris_tray.core.config.settings import Settings, SettingsStore
from polaris_tray.core.platform.autostart.xdg import XdgAutostart
from polaris_tray.core.setup.settings_form import PLACEHOLDER_KEEP, PLACEHOLDER_NEW
from polaris_tray.core.values.link_state import LinkState
from polaris_tray.gui.about import PROJECT_URL, build_about
from polaris_tray.gui.settings.dialog import SettingsDialog
from polaris_tray.gui.tray.icon import HEADER_MAX_PX, TrayIcon
from tests.support.app import ARTIFACTS, run_support_script
from tests.support.mnemonics import duplicates, missing
from tests.support.orchestrator import Orchestrator

MINER = "f3a9c1d2-7b44-4e0e-9d7e-5a1b2c3d4e5f"


class MemoryKeyring:
    def __init__(self):
        self.value = None

    def get(self):
        return self.value

    def set(self, value):
        self.value = value


def make(qtbot, secrets=None, **load):
    d = SettingsDialog(SettingsStore(), XdgAutostart(), secret_store=secrets or MemoryKeyring())
    qtbot.addWidget(d)
    d.load(Settings(), load.pop("overrides", None), **load)
    d.show()
    return d


def test_placeholder_says_keep_only_when_an_id_is_stored(qtbot, home):
    assert make(qtbot, first_run=True).miner_edit.placeholderText() == PLACEHOLDER_NEW
    assert make(qtbot, miner_masked="f3a9…").miner_edit.placeholderText() == PLACEHOLDER_KEEP


def test_show_state_resets_on_each_opening(qtbot, home):
    d = make(qtbot, miner_masked="f3a9…")
    qtbot.mouseClick(d.show_button, Qt.MouseButton.LeftButton)
    assert d.miner_edit.echoMode() is QLineEdit.EchoMode.Normal and d.show_button.text() == "Hid&e"
    d.hide()
    d.load(Settings(), miner_masked="f3a9…")
    d.show()
    assert d.miner_edit.echoMode() is QLineEdit.EchoMode.Password
    assert not d.show_button.isChecked() and d.show_button.text() == "Sho&w"


def test_enter_with_an_empty_id_and_none_stored_keeps_the_dialog_open_and_says_why(qtbot, home):
    d = make(qtbot, first_run=True)
    emitted = []
    d.applied.connect(lambda *a: emitted.append(a))
    d.miner_edit.setFocus()
    qtbot.keyClick(d.miner_edit, Qt.Key.Key_Return)
    assert d.isVisible() and not emitted
    assert "Enter your miner id" in d.miner_note.text() and d.miner_note.property("tone") == "error"
    assert not (home / ".config/polaris-tray/settings.json").exists()
    qtbot.keyClicks(d.miner_edit, MINER)
    with qtbot.waitSignal(d.applied, timeout=5000) as blocker:
        qtbot.keyClick(d.miner_edit, Qt.Key.Key_Return)
    assert blocker.args[1] == MINER
    qtbot.waitUntil(lambda: not d.isVisible(), timeout=5000)


def test_without_a_keyring_the_dialog_says_so_before_typing(qtbot, home, monkeypatch):
    """The real keyring library with its 'fail' backend: what a machine without a Secret Service gets."""
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    d = make(qtbot, SecretStore(), first_run=True)
    qtbot.waitUntil(lambda: not d.miner_edit.isEnabled(), timeout=5000)
    assert "No usable OS keyring" in d.miner_note.text()
    assert "POLARIS_MINER_ID" in d.miner_note.text() and "--miner-id-file" in d.miner_note.text()
    assert not d.import_button.isEnabled() and "no keyring" in d.intro.text()
    emitted = []
    d.applied.connect(lambda *a: emitted.append(a))
    d._ok()  # the other settings can still be saved; no id is pretended to be kept
    assert emitted and emitted[0][1] is None


def test_override_is_shown_and_named(qtbot, home):
    overrides = {"server_url": "http://127.0.0.1:18040/api/v1", "interval_s": None}
    d = make(qtbot, overrides=overrides, miner_masked="f3a9…")
    assert d.url_edit.text() == overrides["server_url"]
    assert d.override_note.isVisible()
    assert "Server set by --server-url for this run" in d.override_note.text()


def test_the_dialog_shrinks_back_when_a_message_goes(qtbot, home):
    d = make(qtbot, miner_masked="f3a9…")
    qtbot.waitUntil(lambda: not d._calls, timeout=5000)
    d.advanced_toggle.click()  # the URL's reason shows inside the disclosure
    before = d.height()
    d.url_edit.setText("http://example.org/api")
    grown = d.height()
    d.url_edit.setText("https://example.org/api/v1")
    assert grown > before and d.height() == before


def test_demo_mode_opens_read_only_and_saves_nothing(qtbot, home):
    class Demo:
        server_url, interval_s = "http://127.0.0.1:40123/api/v1", 5.0

    d = make(qtbot, overrides={}, demo=True, in_effect=Demo(), miner_masked="demo…")
    assert d.url_edit.text() == Demo.server_url and not d.url_edit.isEnabled()
    assert "Demo mode" in d.intro.text() and not d.apply_button.isVisible()
    qtbot.keyClick(d, Qt.Key.Key_Return)
    assert not d.isVisible()
    assert not (home / ".config/polaris-tray/settings.json").exists()


def test_ok_without_changes_keeps_beating_to_the_command_line_server(qtbot, home, orchestrator, monkeypatch):
    """Launched with --server-url X, Settings -> Enter with no change keeps beating to X."""
    from PySide6.QtWidgets import QApplication

    from polaris_tray.gui.controller import AppController
    from polaris_tray.gui.single_instance import SingleInstance

    monkeypatch.setenv("POLARIS_MINER_ID", MINER)
    saved = Orchestrator()
    SettingsStore().save(Settings(server_url=saved.url, interval_s=10))
    options = LaunchOptions(check_overrides(orchestrator.url, "0.3"))
    controller = AppController(QApplication.instance(), options, SingleInstance())
    controller.worker_thread.start()
    try:
        qtbot.waitUntil(
            lambda: controller.snapshot is not None and controller.snapshot.state is LinkState.ONLINE,
            timeout=5000,
        )
        controller.windows.open_settings()
        d = controller.windows.settings_dialog
        assert d.url_edit.text() == orchestrator.url and "--server-url" in d.override_note.text()
        qtbot.keyClick(d.url_edit, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: not d.isVisible(), timeout=5000)
        count = len(orchestrator.bodies())
        assert orchestrator.wait_for(count + 3, timeout=5)  # still beating to X at the 0.3 s override
        assert saved.bodies() == [] and controller.config.server_url == orchestrator.url
        assert (
            json.loads((home / ".config/polaris-tray/settings.json").read_text())["server_url"] == saved.url
        )
    finally:
        controller.lifecycle.quit()
        saved.stop()


def test_menu_and_dialog_mnemonics_are_unique(qtbot, home):
    tray = TrayIcon()
    demo_tray = TrayIcon(demo=True)
    d = make(qtbot, miner_masked="f3a9…")
    about = build_about("Online", "/tmp/x.log")
    qtbot.addWidget(about)
    from polaris_tray.gui.status.window import StatusWindow

    status = StatusWindow()
    qtbot.addWidget(status)
    for root in (tray.menu, demo_tray.menu, d, about, status):
        assert duplicates(root) == {}, root.objectName()
    assert missing(d) == [] and missing(about) == []
    assert [t for t in missing(tray.menu) if t != tray.status_action.text()] == []
    d.show_button.click()  # Hid&e replaces Sho&w
    assert duplicates(d) == {}


def test_menu_header_is_bounded_with_the_full_text_in_its_tooltip(qtbot):
    import time

    from polaris_tray.core.status.snapshot import Snapshot
    from polaris_tray.core.values.outcome import NetworkReason, Outcome, OutcomeKind

    error = "Certificate problem: " + "x" * 400
    tray = TrayIcon()
    outcome = Outcome(OutcomeKind.NETWORK_ERROR, error=error, reason=NetworkReason.TLS)
    tray.show_snapshot(
        Snapshot(LinkState.ATTENTION, "https://h.example/api/v1", "f3a9…", None, time.time(), outcome)
    )
    tray.refresh_menu()
    # the error is bounded where the outcome is made (300 characters); the tooltip holds all of that
    assert tray.status_action.text().endswith("…") and outcome.error in tray.status_action.toolTip()
    assert len(tray.status_action.text()) < len(outcome.error)
    assert tray.menu.sizeHint().width() < HEADER_MAX_PX + 120


def test_demo_says_demo_in_menu_and_tooltip_and_why_login_is_off(qtbot):
    from polaris_tray.core.status.snapshot import Snapshot

    tray = TrayIcon(demo=True)
    tray.show_snapshot(Snapshot(LinkState.ONLINE, "http://127.0.0.1:1/api/v1", "demo…"))
    tray.refresh_menu()
    assert tray.status_action.text().startswith("Demo") and "(Demo)" in tray.icon.toolTip()
    assert tray.settings_action.isEnabled()  # decided: enabled everywhere, the dialog is read-only
    assert not tray.autostart_action.isEnabled() and "demo" in tray.autostart_action.text()
    assert tray.autostart_action.toolTip()


def test_about_shows_icon_version_licence_and_link(qtbot):
    from PySide6.QtWidgets import QLabel

    from polaris_tray import __version__

    about = build_about("Online", None)
    qtbot.addWidget(about)
    labels = about.findChildren(QLabel)
    assert any(label.pixmap() is not None and not label.pixmap().isNull() for label in labels)
    text = about.findChild(QLabel, "aboutText").text()
    assert __version__ in text and "MIT" in text and PROJECT_URL in text and "Log: None" not in text


@pytest.mark.parametrize("scale", ["1", "2"])
def test_screens_fit_1280x720_at_100_and_200_percent(home, scale):
    out = ARTIFACTS / "screens"
    out.mkdir(parents=True, exist_ok=True)
    config = home / "screen.json"  # a 1280x720 screen: 640x360 logical at scale 2
    screen = {"name": "s0", "x": 0, "y": 0, "width": 1280, "height": 720, "logicalDpi": 96, "dpr": 1}
    config.write_text(json.dumps({"screens": [screen]}))
    platform = f"offscreen:configfile={config}"
    env = {"QT_SCALE_FACTOR": scale, "QT_QPA_PLATFORM": platform}
    sizes = json.loads(
        run_support_script("render_screens.py", str(out), f"{int(scale) * 100}pct", env=env, timeout=120)
    )
    assert {"settings-first-run", "settings-no-keyring", "settings-override", "menu-red", "about"} <= set(
        sizes
    )
    assert "settings-first-run-server" in sizes  # the "Save this server for next time" box, ticked
    # the welcome a newcomer meets fits the screen with a title bar, at either scale
    assert sizes["settings-first-run"][1] <= 720 / int(scale) - 30
    for name, (width, height, dpr, _path, cut) in sizes.items():
        assert dpr == float(scale)
        assert cut == [], f"{name}: cut off: {cut}"
        assert width <= 1280 and height <= 680, name  # 720 less a title bar and a panel
        if name.startswith("menu-"):
            assert width <= HEADER_MAX_PX + 120, name
        if name.startswith("settings-"):  # on the screen whole: a taller form scrolls above the buttons
            assert width <= 1280 / int(scale) and height <= 720 / int(scale), name
    print({k: v[:2] for k, v in sizes.items()})
