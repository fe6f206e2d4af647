"""Renders the Diagnose dialog to a PNG in its own process (a scale factor must be set before Qt starts):
a real walk against a loopback orchestrator that does not know the miner, so a ✘ line and its fix show.
Prints one JSON line: the grab's size and pixel ratio, and whether any text was scrolled out of view."""

import json
import sys
import time

from PySide6.QtWidgets import QApplication

from polaris_tray.gui.beat.background_call import BackgroundCall
from polaris_tray.gui.settings.doctor_dialog import DoctorDialog
from tests.support.routed_orchestrator import RoutedOrchestrator


def main(out: str) -> None:
    app = QApplication([])
    server = RoutedOrchestrator(miners=set())
    try:
        dialog = DoctorDialog(server.url, beating=False)
        dialog.show()
        deadline = time.monotonic() + 30
        while not dialog.again_button.isEnabled() and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.02)  # the walk runs on its own thread; its lines arrive as queued signals
        app.processEvents()
        image = dialog.grab()
        image.save(out)
        bar = dialog.text.verticalScrollBar()
        print(
            json.dumps(
                {
                    "width": image.width(),
                    "height": image.height(),
                    "dpr": image.devicePixelRatio(),
                    "hidden": bar.maximum() > 0,
                    "horizontal": dialog.text.horizontalScrollBar().maximum() > 0,
                    "text": dialog.text.toPlainText(),
                    "summary": dialog.verdict.text(),
                }
            )
        )
    finally:
        BackgroundCall.cancel_all(5.0)  # as Quit does: no call's thread in a Qt emit while Python exits
        server.stop()


if __name__ == "__main__":
    main(sys.argv[1])
