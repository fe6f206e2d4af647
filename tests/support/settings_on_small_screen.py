"""Opens Settings on the display it is given, opens Advanced by its mnemonic and Tabs to OK, in its own
process so QT_SCALE_FACTOR is set before Qt starts. Prints one JSON object of what it measured (logical
pixels): the dialog's frame, the screen's available geometry, OK's rectangle on screen, what Tab reached,
and whether the id's mnemonic (Alt+M) from there brings the id field into view whole.
With a path as its argument it saves the dialog as a PNG there.
"""

import json
import sys

from PySide6.QtCore import QRect, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from polaris_tray.core.config.settings import Settings, SettingsStore
from polaris_tray.core.platform.autostart.xdg import XdgAutostart
from polaris_tray.gui.beat.background_call import BackgroundCall
from polaris_tray.gui.settings.dialog import SettingsDialog


def rect(r: QRect) -> list[int]:
    return [r.x(), r.y(), r.width(), r.height()]


def main() -> None:
    app = QApplication([])
    dialog = SettingsDialog(SettingsStore(), XdgAutostart())
    dialog.load(Settings(), first_run=True)  # the welcome: its intro and where-is-my-id notes too
    dialog.show()
    dialog.activateWindow()
    assert QTest.qWaitForWindowActive(dialog, 5000), "the dialog never became active"
    closed = not dialog.advanced.isVisible()
    QTest.keyClick(dialog.focusWidget() or dialog, Qt.Key.Key_D, Qt.KeyboardModifier.AltModifier)
    app.processEvents()
    QTest.qWait(200)  # a window manager's move or resize, if any, lands
    reached = []
    for _ in range(30):  # Tab on from the disclosure, as a user would, until OK has the focus
        widget = app.focusWidget()
        reached.append(widget.objectName() or widget.accessibleName() or type(widget).__name__)
        if widget is dialog.ok_button:
            break
        QTest.keyClick(widget, Qt.Key.Key_Tab)
        app.processEvents()
    ok = dialog.ok_button
    ok_on_screen = QRect(ok.mapToGlobal(ok.rect().topLeft()), ok.size())
    ok_focused = app.focusWidget() is ok
    ok_whole = ok.isVisible() and ok.visibleRegion().boundingRect() == ok.rect()
    QTest.keyClick(ok, Qt.Key.Key_M, Qt.KeyboardModifier.AltModifier)  # back up to the id by its mnemonic
    app.processEvents()
    miner = dialog.miner_edit
    miner_whole = app.focusWidget() is miner and miner.visibleRegion().boundingRect() == miner.rect()
    screen = dialog.screen()
    print(
        json.dumps(
            {
                "advanced_was_closed": closed,
                "advanced_open": dialog.advanced.isVisible(),
                "frame": rect(dialog.frameGeometry()),
                "available": rect(screen.availableGeometry()),
                "screen": rect(screen.geometry()),
                "dpr": dialog.devicePixelRatioF(),
                "ok": rect(ok_on_screen),
                "ok_whole": ok_whole,
                "ok_focused": ok_focused,
                "miner_whole": miner_whole,
                "reached": reached,
            }
        )
    )
    if len(sys.argv) > 1:
        dialog.grab().save(sys.argv[1])  # what the user sees, OK focused
    dialog.close()
    BackgroundCall.cancel_all(5.0)  # as Quit does: no call's thread may be in a Qt emit while Python exits


if __name__ == "__main__":
    main()
