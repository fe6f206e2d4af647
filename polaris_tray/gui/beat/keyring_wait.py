"""The miner id, looked up off the worker's thread, and looked up again while the keyring cannot answer.

A keyring that is locked, not up yet or slow at login is not "no id": the user unlocks it a moment later
and expects the heartbeat to start by itself. So the lookup is retried with a short backoff (capped, so an
unlock is noticed within a few seconds), at once on Start or Send now, and the first-run dialog is not shown
meanwhile. The lookup runs on its own short thread so Stop and Quit never wait behind a keyring prompt.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from polaris_tray.core.config.miner_id import Resolution, resolve_miner_id
from polaris_tray.core.config.secret_store import NO_KEYRING_HELP, SecretStore

log = logging.getLogger(__name__)

RETRY_DELAYS_S = (0.5, 1.0, 2.0)  # then every 2 s (a probe without a prompt): an unlock is seen within ~2 s
# No Secret Service at all: maybe one that starts late at login, maybe none ever. After this many answers
# the user is asked for the id (the first-run dialog says what works without a keyring); the lookups go
# on, slower, in case one turns up holding the id.
ABSENT_ANSWERS = 3
ABSENT_DELAY_S = 10.0


class KeyringWait(QObject):
    """Lives in the worker thread; found(id, origin), notice(text) and changed() are called there."""

    _resolved = Signal(object)  # Resolution, from the lookup thread to this object's thread

    def __init__(
        self,
        parent: QObject,
        found: Callable[[str, str], None],
        notice: Callable[[str], None],
        changed: Callable[[], None],
        resolve: Callable[[], Resolution] | None = None,
    ) -> None:
        super().__init__(parent)
        self._found = found
        self._notice = notice
        self._changed = changed
        self._resolve = resolve or self._look_up
        # The keyring's complaint while we wait for it; "" until the first lookup answers (not "no id" yet).
        self.waiting: str | None = ""
        self._failures = 0
        self._absent = 0
        self._busy = False
        self._again = False
        self._done = False
        self._prompt = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(lambda: self.try_now(prompt=False))
        self._resolved.connect(self._on_resolved)

    def try_now(self, prompt: bool = False) -> None:
        """prompt: the user asked (Start, a second launch), so a locked keyring may show its prompt again."""
        if self._done:
            return
        self._prompt = self._prompt or prompt
        self._timer.stop()
        if self._busy:
            self._again = True  # one more look as soon as the one under way answers
            return
        self._busy = True
        threading.Thread(target=self._look, name="miner-id-lookup", daemon=True).start()

    def _look_up(self) -> Resolution:
        store = SecretStore()
        prompt, self._prompt = self._prompt, False
        if self.waiting and not prompt and self._absent == 0 and store.still_locked():
            # Locked, as last time: the user has the prompt of the first lookup; ask without another.
            return Resolution(None, "none", [], self.waiting)
        return resolve_miner_id(store)

    def cancel(self) -> None:
        self._done = True
        self._timer.stop()

    def _look(self) -> None:
        try:
            resolution = self._resolve()
        except Exception as exc:  # never leave the worker waiting for an answer that will not come
            resolution = Resolution(None, "none", [], f"The keyring lookup failed: {exc}")
        try:
            self._resolved.emit(resolution)
        except RuntimeError:  # the app is gone
            pass

    def _on_resolved(self, resolution: Resolution) -> None:
        self._busy = False
        if self._done:
            return
        for text in resolution.notices:
            self._notice(text)
        if resolution.miner_id:
            self.waiting = None
            self._done = True
            self._found(resolution.miner_id, resolution.origin)
            return
        if not resolution.keyring_error:
            self.waiting = None  # the keyring answered: there is no id (first run)
            self._changed()
            return
        delay = RETRY_DELAYS_S[min(self._failures, len(RETRY_DELAYS_S) - 1)]
        self._failures += 1
        self._absent = self._absent + 1 if resolution.keyring_error == NO_KEYRING_HELP else 0
        if self._absent >= ABSENT_ANSWERS:
            self.waiting = None  # treated as "no id" from now on: the user may type one
            delay = ABSENT_DELAY_S
        else:
            if not self.waiting:
                text = resolution.keyring_error
                self._notice(f"{text} Polaris Tray starts the heartbeat as soon as it can read the id.")
                log.info("Waiting for the keyring: %s", text)
            self.waiting = resolution.keyring_error
        if self._again:
            self._again = False
            delay = 0
        self._timer.start(int(delay * 1000))
        self._changed()
