"""First run to green: no id anywhere -> welcome dialog -> type the id -> Enter -> saved and
beating at once; Enter with the id empty keeps the dialog open and says why. pytest-qt in-process, and end
to end on Xvfb + trayer driven by the keyboard with xdotool, the icon's colour read off the screen."""

import json
import os
import shutil
import subprocess
import time

import pytest
from PySide6.QtCore import Qt

from polaris_tray.core.config.settings import Settings, SettingsStore
from polaris_tray.core.platform.autostart.xdg import XdgAutostart
from polaris_tray.core.values.link_state import LinkState
from polaris_tray.gui.settings.dialog import SettingsDialog
from tests.support.app import ARTIFACTS, ROOT, files_containing, start_app
from tests.support.gui import gui_env, stop, wait_colour
from tests.support.screen import tray_colour
from tests.support.worker import start_controller

MINER = "f3a9c1d2-7b44-4e0e-9d7e-5a1b2c3d4e5f"


@pytest.fixture
def real_keyring(keyring_env, monkeypatch):
    """This process's keyring is the test's real gnome-keyring (keyring caches its backend per process)."""
    import keyring
    from keyring.backends.SecretService import Keyring

    for key, value in keyring_env.items():
        monkeypatch.setenv(key, value)
    previous = keyring.get_keyring()
    keyring.set_keyring(Keyring())
    yield keyring_env
    keyring.set_keyring(previous)


def _saved_server(url: str) -> None:
    """The loopback server saved as the user's: the dialog saves what it shows, and it must never be
    the real orchestrator's default address."""
    SettingsStore().save(Settings(server_url=url, interval_s=10.0))


@pytest.mark.keyring
def test_enter_with_an_id_in_the_welcome_dialog_saves_it_and_starts_beating(
    qtbot, home, orchestrator, real_keyring
):
    _saved_server(orchestrator.url)
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
        qtbot.waitUntil(lambda: len(orchestrator.arrivals) >= 1, timeout=10000)  # the event loop runs
        assert orchestrator.bodies()[0]["metrics"]["miner_id"] == MINER
        qtbot.waitUntil(lambda: controller.snapshot.state is LinkState.ONLINE, timeout=10000)
        assert not dialog.isVisible()
    finally:
        controller.lifecycle.quit()


@pytest.mark.keyring
def test_enter_with_an_empty_id_keeps_the_welcome_dialog_open_and_says_why(qtbot, home, real_keyring):
    """A usable keyring, probed to the end first: without one the id is not required (there is nowhere
    to keep it), so a test that pressed Enter while the probe ran depended on which came first."""
    store = SettingsStore()
    dialog = SettingsDialog(store, XdgAutostart())
    qtbot.addWidget(dialog)
    dialog.load(Settings(), first_run=True, miner_masked=None)
    dialog.show()
    qtbot.waitUntil(lambda: not dialog._calls, timeout=10000)  # the keyring probe has answered
    assert dialog.form.keyring_problem is None and dialog.miner_edit.isEnabled()
    applied = []
    dialog.applied.connect(lambda *a: applied.append(a))
    qtbot.keyClick(dialog.miner_edit, Qt.Key.Key_Return)
    assert dialog.isVisible()
    assert "Enter your miner id" in dialog.miner_note.text()
    assert applied == []
    assert not store.path.exists()  # nothing saved either


def _xdotool(display, *args: str) -> str:
    return subprocess.run(
        ["xdotool", *args],
        env={**os.environ, "DISPLAY": display.display},
        capture_output=True,
        text=True,
        timeout=20,
    ).stdout


def _wait_window(display, title: str, timeout: float = 15, pid: int | None = None) -> str:
    deadline = time.monotonic() + timeout
    by_pid = ["--all", "--pid", str(pid)] if pid else []
    while time.monotonic() < deadline:
        found = _xdotool(display, "search", *by_pid, "--onlyvisible", "--name", title).split()
        if found:
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"no window titled {title!r}")


@pytest.mark.gui
@pytest.mark.keyring
def test_first_run_by_keyboard_turns_the_icon_green(home, orchestrator, x_display, keyring_env):
    """The newcomer's path end to end: a fresh home, no id anywhere, a real keyring and a real tray. The
    user types the id at once (no Tab: the focus is in the id) and presses Enter; the icon turns green, the
    status window says "Online — counted by Polaris", the saved URL is untouched, and the id is in the
    keyring only."""
    _saved_server(orchestrator.url)
    env = gui_env(home, x_display, miner_id=None, keyring=keyring_env)
    proc = start_app([], env)
    try:
        window = _wait_window(x_display, "Settings")  # "Settings — Polaris Tray": Qt appends the name
        assert tray_colour(x_display.display) == "grey"
        shot = [
            "import",
            "-display",
            x_display.display,
            "-window",
            window,
            str(ARTIFACTS / "first-run-x11.png"),
        ]
        subprocess.run(shot, timeout=20, check=False)  # the welcome as a user meets it, on a real X server
        _xdotool(x_display, "windowfocus", "--sync", window)
        _xdotool(x_display, "type", "--delay", "20", MINER)
        typed = time.monotonic()
        _xdotool(x_display, "key", "Return")
        assert orchestrator.wait_for(1, timeout=10), stop(proc)
        wait_colour(x_display, "green", 10)
        print(f"green {time.monotonic() - typed:.2f} s after Enter")
        assert orchestrator.bodies()[0]["metrics"]["miner_id"] == MINER
        saved = json.loads((home / ".config/polaris-tray/settings.json").read_text())
        assert saved["server_url"] == orchestrator.url  # not ".../api/v1" + the id
        assert _keyring_value(keyring_env) == MINER
        assert files_containing(home, MINER) == []  # in the keyring, not in any file
        status = _wait_window(x_display, "Status", pid=proc.pid)
        _wait_confirmation(x_display, status)
        _readme_picture(x_display, status)
    finally:
        _, err = stop(proc)
    assert MINER not in err


def _keyring_value(keyring_env) -> str:
    return subprocess.run(
        ["secret-tool", "lookup", "service", "polaris-tray", "username", "miner_id"],
        env={**os.environ, **keyring_env},
        capture_output=True,
        text=True,
        timeout=20,
    ).stdout.strip()


def _window_rgb(display, window: str, top: int) -> bytes:
    """The window's top `top` rows, as RGB bytes."""
    crop = ["-crop", f"10000x{top}+0+0", "-depth", "8", "rgb:-"]
    return subprocess.run(
        ["import", "-display", display.display, "-window", window, *crop],
        capture_output=True,
        timeout=20,
        check=True,
    ).stdout


def _wait_confirmation(display, window: str, timeout: float = 15) -> None:
    """The confirmation is green text (#188038) above the headline, polled off the screen as a user sees it.
    Only the top rows are read: the table's "accepted" cells further down are a similar green."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        raw = _window_rgb(display, window, top=80)
        green = sum(
            1
            for i in range(0, len(raw) - 2, 3)
            if abs(raw[i] - 0x18) < 24 and abs(raw[i + 1] - 0x80) < 24 and abs(raw[i + 2] - 0x38) < 24
        )
        if green > 40:
            return
        time.sleep(0.2)
    raise AssertionError("the status window never showed its green 'Online — counted by Polaris'")


def _readme_picture(display, window: str) -> None:
    """The README's picture: the tray (green) above the status window, as the user has them now.
    POLARIS_UPDATE_DOC_IMAGES=1 also writes it to docs/images/, where the README takes it from."""
    tray, shot = ARTIFACTS / "readme-tray.png", ARTIFACTS / "readme-window.png"
    subprocess.run(
        ["import", "-display", display.display, "-window", window, str(shot)], timeout=20, check=True
    )
    corner = ["import", "-display", display.display, "-window", "root", "-crop", "120x34+904+0", str(tray)]
    subprocess.run(corner, timeout=20, check=True)  # trayer's corner of the 1024-wide screen: the icon
    out = ARTIFACTS / "readme-status.png"
    subprocess.run(
        ["convert", "-background", "#d8d8d8", "-gravity", "East", str(tray), str(shot), "-append", str(out)],
        timeout=20,
        check=True,
    )
    assert out.stat().st_size > 10_000
    if os.environ.get("POLARIS_UPDATE_DOC_IMAGES") == "1":
        shutil.copyfile(out, ROOT / "docs" / "images" / "status.png")
