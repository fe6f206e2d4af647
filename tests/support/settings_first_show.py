"""Shows the first-run Settings on the display it is given and waits for the window manager to frame it,
in its own process so QT_SCALE_FACTOR is set before Qt starts. Prints one JSON object (logical pixels),
read as soon as the frame is there: the dialog's frame and client geometry, the screen's available
geometry and OK's rectangle on screen."""

import json
import time

from PySide6.QtCore import QRect
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from polaris_tray.core.config.settings import Settings, SettingsStore
from polaris_tray.core.platform.autostart.xdg import XdgAutostart
from polaris_tray.gui.beat.background_call import BackgroundCall
from polaris_tray.gui.settings.dialog import SettingsDialog


def rect(r: QRect) -> list[int]:
    return [r.x(), r.y(), r.width(), r.height()]


def wait_for(condition, ms: int) -> bool:
    """Events processed until condition() holds (PySide6 has no QTest.qWaitFor)."""
    deadline = time.monotonic() + ms / 1000
    while not condition():
        if time.monotonic() > deadline:
            return False
        QTest.qWait(10)
    return True


def main() -> None:
    QApplication([])
    dialog = SettingsDialog(SettingsStore(), XdgAutostart())
    dialog.load(Settings(), first_run=True)
    dialog.show()
    assert QTest.qWaitForWindowExposed(dialog, 5000), "the dialog was never shown"
    framed = wait_for(lambda: dialog.frameGeometry().height() > dialog.height(), 5000)
    QApplication.processEvents()  # what came with the frame; not later events (a keyring check refits too)
    ok = dialog.ok_button
    print(
        json.dumps(
            {
                "framed": framed,
                "frame": rect(dialog.frameGeometry()),
                "client": rect(dialog.geometry()),
                "available": rect(dialog.screen().availableGeometry()),
                "ok": rect(QRect(ok.mapToGlobal(ok.rect().topLeft()), ok.size())),
            }
        )
    )
    BackgroundCall.cancel_all(5.0)  # as Quit does: no call's thread may be in a Qt emit while Python exits


if __name__ == "__main__":
    main()
