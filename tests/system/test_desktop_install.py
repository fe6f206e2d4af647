"""--install-desktop puts Polaris Tray in the applications menu with icons that resolve."""

import json
import subprocess
import sys

import pytest

from polaris_tray.core.platform.autostart.xdg import _split_exec
from polaris_tray.core.platform.desktop_install import DesktopInstallError, install, render_entry
from polaris_tray.core.platform.resources import resources_dir
from tests.support.app import ROOT, app_env, run_app

TEMPLATE = (ROOT / "resources" / "io.polaris.tray.desktop").read_text()
ICON_PROBE = """
import sys
from PySide6.QtGui import QGuiApplication, QIcon
app = QGuiApplication([])
icon = QIcon.fromTheme(sys.argv[1])
print(sorted({s.width() for s in icon.availableSizes()}))
"""


def validate(path):
    result = subprocess.run(["desktop-file-validate", str(path)], capture_output=True, text=True)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def exec_command(entry_text: str) -> list[str]:
    line = next(x for x in entry_text.splitlines() if x.startswith("Exec="))
    return _split_exec(line[len("Exec=") :])  # the spec's unquoting (string escapes, quotes, %%)


def test_entry_for_an_awkward_path_is_valid_and_launches_that_path(tmp_path):
    program = '/opt/My Apps/polaris 100% "new"/polaris-tray'
    text = render_entry(TEMPLATE, [program])
    assert exec_command(text) == [program]
    assert text.count("\nExec=") == 1 and "Icon=polaris-tray" in text
    assert f"\nTryExec={program}\n" in text  # a plain string: what GLib looks up, unquoted
    (tmp_path / "io.polaris.tray.desktop").write_text(text)
    validate(tmp_path / "io.polaris.tray.desktop")


def test_without_resources_it_says_where_it_looked(tmp_path):
    with pytest.raises(DesktopInstallError, match=str(tmp_path)):
        install({"HOME": str(tmp_path)}, command=["/bin/true"], resources=tmp_path)
    assert not (tmp_path / ".local").exists()
    assert (resources_dir() / "io.polaris.tray.desktop").is_file()  # the checkout's own


def test_install_then_uninstall_as_a_user_would(home, orchestrator):
    env = app_env(home, miner_id=None)
    installed = run_app(["--install-desktop"], env)
    assert installed.returncode == 0, installed.stderr
    data = home / ".local" / "share"
    entry = data / "applications" / "io.polaris.tray.desktop"
    icons = sorted(p.relative_to(data).as_posix() for p in (data / "icons").rglob("*") if p.is_file())
    assert "icons/hicolor/48x48/apps/polaris-tray.png" in icons
    assert "icons/hicolor/scalable/apps/polaris-tray.svg" in icons
    assert len(icons) == 10
    assert all(oct(p.stat().st_mode & 0o777) == "0o644" for p in [entry, *data.rglob("*.png")])
    validate(entry)
    # the menu entry starts this app: one heartbeat to a loopback orchestrator
    once = subprocess.run(
        [*exec_command(entry.read_text()), "--once", "--server-url", orchestrator.url],
        env={**env, "POLARIS_MINER_ID": "miner-abcdef123456"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert once.returncode == 0, once.stderr
    assert json.loads(once.stdout)["outcome"] == "accepted"
    # installing again replaces, never duplicates
    assert run_app(["--install-desktop"], env).returncode == 0
    assert len([p for p in data.rglob("*") if p.is_file()]) == 11

    removed = run_app(["--uninstall-desktop"], env)
    assert removed.returncode == 0 and "removed 11 files" in removed.stdout
    assert not [p for p in data.rglob("*") if p.is_file()]
    again = run_app(["--uninstall-desktop"], env)
    assert again.returncode == 0 and "nothing was installed" in again.stdout


@pytest.mark.gui
def test_the_autostart_icon_resolves_before_install_and_after_uninstall(home, x_display):
    """The autostart entry names the build's own icon file, so --uninstall-desktop (which removes
    the theme icons) leaves it nothing dangling; Qt loads it as a panel or session manager would."""
    env = app_env(
        home,
        miner_id=None,
        DISPLAY=x_display.display,
        QT_QPA_PLATFORM="xcb",
        DBUS_SESSION_BUS_ADDRESS="disabled:",  # the probe is bare Qt: no bus autolaunched for it
    )
    assert run_app(["--autostart", "on"], env).returncode == 0
    autostart = home / ".config" / "autostart" / "io.polaris.tray.desktop"
    icon = next(x for x in autostart.read_text().splitlines() if x.startswith("Icon="))[len("Icon=") :]
    assert icon.startswith("/") and icon.endswith(".png")

    def loads() -> bool:
        probe = subprocess.run(
            [sys.executable, "-c", FILE_ICON_PROBE, icon], env=env, capture_output=True, text=True, timeout=60
        )
        assert probe.returncode == 0, probe.stderr
        return probe.stdout.strip() == "True"

    assert loads()
    assert run_app(["--install-desktop"], env).returncode == 0
    removed = run_app(["--uninstall-desktop"], env)
    assert removed.returncode == 0 and "start at login stays on" in removed.stdout
    assert loads() and autostart.is_file()  # nothing the entry names was removed


FILE_ICON_PROBE = """
import sys
from PySide6.QtGui import QGuiApplication, QIcon
app = QGuiApplication([])
print(not QIcon(sys.argv[1]).pixmap(48, 48).isNull())
"""


def test_the_menu_and_the_autostart_entry_share_one_desktop_id():
    from polaris_tray.core.platform.autostart.xdg import FILE_NAME
    from polaris_tray.core.platform.desktop_install import DESKTOP_ID

    assert FILE_NAME == DESKTOP_ID == "io.polaris.tray.desktop"
