"""Stopping costs money: say so before the heartbeat stops, until the user says not to ask again."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QCheckBox, QMessageBox

from polaris_tray import APP_DISPLAY_NAME
from polaris_tray.core.config.limits import OFFLINE_AFTER_S
from polaris_tray.core.values.link_state import Colour

if TYPE_CHECKING:
    from polaris_tray.core.config.settings import Settings
    from polaris_tray.core.status.snapshot import Snapshot

log = logging.getLogger(__name__)

MESSAGE = (
    "Stop sending heartbeats?\n\nThe orchestrator will count this miner offline within {:.0f} s "
    "(at once if it accepts the goodbye), and offline time is not paid."
)


class StopGuard:
    """Wired to Stop in the tray and the status window: ask() asks while the miner is counted online, then
    calls stop. "Don't ask again" goes to remember with the settings in force (it keeps and saves them)."""

    def __init__(
        self,
        snapshot: Callable[[], Snapshot | None],
        settings: Callable[[], Settings],
        remember: Callable[[Settings], None],
        stop: Callable[[], None],
    ) -> None:
        self._snapshot = snapshot
        self._settings = settings
        self._remember = remember
        self._stop = stop
        self._box: QMessageBox | None = None  # referenced while open: a parentless box dies with its wrapper

    def ask(self) -> None:
        snap = self._snapshot()
        counted_online = snap is not None and snap.state.colour in (Colour.GREEN, Colour.AMBER)
        if not counted_online or not self._settings().warn_on_stop:
            self._stop()
            return
        box = QMessageBox(QMessageBox.Icon.Warning, APP_DISPLAY_NAME, MESSAGE.format(OFFLINE_AFTER_S))
        box.setObjectName("stopWarning")
        stop = box.addButton("&Stop heartbeat", QMessageBox.ButtonRole.AcceptRole)
        keep = box.addButton("&Keep running", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(
            keep
        )  # Enter keeps the miner counted: stopping costs money, so it takes a choice
        box.setEscapeButton(keep)
        never = QCheckBox("&Don't ask again")
        box.setCheckBox(never)

        def finished(_result: int) -> None:
            if box.clickedButton() is not stop:
                return
            if never.isChecked():
                self._never_again()
            self._stop()

        box.finished.connect(finished)
        self._box = box
        box.open()

    def _never_again(self) -> None:
        try:
            self._remember(replace(self._settings(), warn_on_stop=False))
        except (OSError, TypeError, ValueError) as exc:
            log.warning("Could not remember 'don't ask again': %s", exc)
