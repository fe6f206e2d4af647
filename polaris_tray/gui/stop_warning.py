"""Stopping costs money: say so before the heartbeat stops, until the user says not to ask again."""

from __future__ import annotations

import logging
from dataclasses import replace

from PySide6.QtWidgets import QCheckBox, QMessageBox

from polaris_tray import APP_DISPLAY_NAME
from polaris_tray.core.config.limits import OFFLINE_AFTER_S
from polaris_tray.core.values.link_state import Colour

log = logging.getLogger(__name__)

MESSAGE = (
    "Stop sending heartbeats?\n\nThe orchestrator will count this miner offline within {:.0f} s "
    "(at once if it accepts the goodbye), and offline time is not paid."
)


def guarded_stop(controller) -> None:
    """Wired to Stop in the tray and the status window: asks, then calls the controller's request_stop()."""
    snap = controller.snapshot
    counted_online = snap is not None and snap.state.colour in (Colour.GREEN, Colour.AMBER)
    if not counted_online or not getattr(controller.settings, "warn_on_stop", True):
        controller.request_stop()
        return
    box = QMessageBox(QMessageBox.Icon.Warning, APP_DISPLAY_NAME, MESSAGE.format(OFFLINE_AFTER_S))
    box.setObjectName("stopWarning")
    stop = box.addButton("&Stop heartbeat", QMessageBox.ButtonRole.AcceptRole)
    keep = box.addButton("&Keep running", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(keep)  # Enter keeps the miner counted: stopping costs money, so it takes a choice
    box.setEscapeButton(keep)
    never = QCheckBox("&Don't ask again")
    box.setCheckBox(never)

    def finished(_result: int) -> None:
        if box.clickedButton() is not stop:
            return
        if never.isChecked():
            _remember(controller)
        controller.request_stop()

    box.finished.connect(finished)
    controller.stop_warning = box  # kept alive while open; the tests find it here
    box.open()


def _remember(controller) -> None:
    """Saved with the other settings (not in demo mode, which saves nothing)."""
    try:
        controller.settings = replace(controller.settings, warn_on_stop=False)
        if not controller.demo:
            controller.store.save(controller.settings)
    except (OSError, TypeError, ValueError) as exc:
        log.warning("Could not remember 'don't ask again': %s", exc)
