"""Renders the settings dialog, the tray menu and About in each state to PNGs, in its own process so
QT_SCALE_FACTOR is set before Qt starts. Prints one JSON object: name -> [logical w, h, dpr, path, [the
labels cut off or scroll bars showing]]."""

import json
import sys
import time
from pathlib import Path

from PySide6.QtCore import QPoint, QThreadPool
from PySide6.QtWidgets import QApplication

from polaris_tray.core.config.secret_store import NO_KEYRING_HELP, SecretStoreError
from polaris_tray.core.config.settings import Settings, SettingsStore
from polaris_tray.core.platform.autostart.xdg import XdgAutostart
from polaris_tray.core.status.snapshot import Snapshot
from polaris_tray.core.values.link_state import LinkState
from polaris_tray.core.values.outcome import NetworkReason, Outcome, OutcomeKind
from polaris_tray.gui.about import build_about
from polaris_tray.gui.beat.background_call import BackgroundCall
from polaris_tray.gui.settings.dialog import SettingsDialog
from polaris_tray.gui.tray.icon import TrayIcon
from tests.support.clipping import clipped_labels, visible_scrollbars

URL = "https://polaris-test-server.onrender.com/api/v1"
LONG_ERROR = (
    "Certificate problem: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local "
    "issuer certificate (_ssl.c:1006) while connecting to polaris-test-server.onrender.com:443"
)


class Keyring:
    def __init__(self, broken=False):
        self.broken = broken

    def get(self):
        if self.broken:
            raise SecretStoreError(NO_KEYRING_HELP)

    def set(self, value):
        raise SecretStoreError(NO_KEYRING_HELP)


def settle(app):
    QThreadPool.globalInstance().waitForDone(5000)
    for _ in range(5):
        app.processEvents()


def dialog_states():
    masked = "f3a9…"
    yield "first-run", dict(first_run=True), Keyring(), None
    server = {"server_url": "http://127.0.0.1:18040/api/v1", "interval_s": None}
    yield "first-run-server", dict(first_run=True, overrides=server), Keyring(), None
    yield "normal", dict(miner_masked=masked), Keyring(), None
    yield "no-keyring", dict(first_run=True), Keyring(broken=True), None
    overrides = {"server_url": "http://127.0.0.1:18040/api/v1", "interval_s": 5.0}
    yield "override", dict(overrides=overrides, miner_masked=masked), Keyring(), None
    yield "invalid", dict(miner_masked=masked), Keyring(), ("http://example.org/api", "has space")
    yield "empty-id", dict(first_run=True), Keyring(), "ok"
    yield "demo", dict(demo=True, miner_masked="demo…", in_effect=_Effect()), Keyring(), None


class _Effect:
    server_url = "http://127.0.0.1:40123/api/v1"
    interval_s = 5.0


def menu_states():
    now = time.time()
    yield "starting", None, False
    yield "online", Snapshot(LinkState.ONLINE, URL, "f3a9…", now - 3, now + 27), False
    tls = Outcome(OutcomeKind.NETWORK_ERROR, error=LONG_ERROR, reason=NetworkReason.TLS)
    yield "red", Snapshot(LinkState.ATTENTION, URL, "f3a9…", now - 400, now + 20, tls), False
    refused = Outcome(OutcomeKind.NETWORK_ERROR, error=LONG_ERROR, reason=NetworkReason.REFUSED)
    yield "stopped-error", Snapshot(LinkState.STOPPED, URL, "f3a9…", now - 400, None, refused), False
    yield "unconfigured", Snapshot(LinkState.UNCONFIGURED, URL), False
    yield "demo", Snapshot(LinkState.ONLINE, "http://127.0.0.1:40123/api/v1", "demo…", now, now + 5), True


def main(out_dir: str, suffix: str) -> None:
    app = QApplication([])
    out = Path(out_dir)
    sizes = {}

    def save(name, widget, scrolled=()):
        image = widget.grab()
        path = out / f"{name}-{suffix}.png"
        image.save(str(path))
        dpr = image.devicePixelRatio()
        cut = visible_scrollbars(widget, allowed=scrolled) + clipped_labels(widget, scrolled)
        sizes[name] = [image.width() / dpr, image.height() / dpr, dpr, str(path), cut]

    for name, kwargs, keyring, typed in dialog_states():
        dialog = SettingsDialog(SettingsStore(), XdgAutostart(), secret_store=keyring)
        dialog.load(Settings(server_url=URL), kwargs.pop("overrides", None), **kwargs)
        dialog.show()
        settle(app)
        if isinstance(typed, tuple):
            dialog.url_edit.setText(typed[0])
            dialog.miner_edit.setText(typed[1])
        elif typed == "ok":
            dialog._ok()
        settle(app)
        save(f"settings-{name}", dialog, scrolled=(dialog.form_scroll,))  # a form taller than the screen
        dialog.close()

    for name, snap, demo in menu_states():
        tray = TrayIcon(demo=demo)
        if snap is not None:
            tray.show_snapshot(snap)
        tray.refresh_menu()
        tray.menu.popup(QPoint(0, 0))
        settle(app)
        save(f"menu-{name}", tray.menu)
        tray.menu.hide()

    box = build_about("Online", "/home/user/.local/state/polaris-tray/log/polaris-tray.log")
    box.show()
    settle(app)
    save("about", box)
    print(json.dumps(sizes))
    BackgroundCall.cancel_all(5.0)  # as Quit does: no call's thread may be in a Qt emit while Python exits


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
