"""Renders the settings dialog to a PNG in its own process, so a scale factor can be set before Qt starts."""

import sys

from PySide6.QtWidgets import QApplication

from polaris_tray.core.config.settings import Settings, SettingsStore
from polaris_tray.core.platform.autostart.xdg import XdgAutostart
from polaris_tray.gui.beat.background_call import BackgroundCall
from polaris_tray.gui.settings.dialog import SettingsDialog


def main(out: str, url: str) -> None:
    app = QApplication([])
    dialog = SettingsDialog(SettingsStore(), XdgAutostart())
    dialog.load(Settings(), first_run=False, miner_masked="f3a9…")
    dialog.url_edit.setText(url)
    dialog.advanced_toggle.setChecked(True)  # the server, interval and log level in the picture too
    dialog.show()
    app.processEvents()
    image = dialog.grab()
    image.save(out)
    print(image.width(), image.height(), image.devicePixelRatio())
    BackgroundCall.cancel_all(5.0)  # as Quit does: no call's thread may be in a Qt emit while Python exits


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
