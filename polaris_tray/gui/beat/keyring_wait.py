"""The miner id, looked up off the worker's thread, and looked up again while the keyring cannot answer;
the answers go to the BeatRunner as commands (UseId, IdAnswered), which asks again (try_now) on Start.

A keyring that is locked, not up yet or slow at login is not "no id": the user unlocks it a moment later
and expects the heartbeat to start by itself. So the lookup is retried with a short backoff (capped, so an
unlock is noticed within a few seconds), at once on Start or Send now, and the first-run dialog is not shown
meanwhile. The lookup runs on a BackgroundCall's thread so Stop and Quit never wait behind a keyring prompt.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

from polaris_tray.core.config.miner_id import Resolution, resolve_miner_id
from polaris_tray.core.config.secret_store import NO_KEYRING_HELP, SecretStore
from polaris_tray.core.heartbeat.runner import Command, IdAnswered, MinerId, UseId
from polaris_tray.gui.beat.background_call import BackgroundCall

log = logging.getLogger(__name__)

RETRY_DELAYS_S = (0.5, 1.0, 2.0)  # then every 2 s (a probe without a prompt): an unlock is seen within ~2 s
# No Secret Service at all: maybe one that starts late at login, maybe none ever. After this many answers
# the user is asked for the id (the first-run dialog says what works without a keyring); the lookups go
# on, slower, in case one turns up holding the id.
ABSENT_ANSWERS = 3
ABSENT_DELAY_S = 10.0


class KeyringWait(QObject):
    """Lives in the worker thread; submit(command) and notice(text) are called there."""

    def __init__(
        self,
        parent: QObject,
        submit: Callable[[Command], None],
        notice: Callable[[str], None],
        resolve: Callable[[], Resolution] | None = None,
    ) -> None:
        super().__init__(parent)
        self._submit = submit
        self._notice = notice
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
        call = BackgroundCall(self._resolve, waited_on_quit=False)  # a keyring prompt may outlive Quit
        call.done.connect(self._answered)
        call.start()

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

    def _answered(self, resolution: Resolution | None, error: Exception | None) -> None:
        if resolution is None:  # never leave the worker waiting for an answer that will not come
            resolution = Resolution(None, "none", [], f"The keyring lookup failed: {error}")
        self._on_resolved(resolution)

    def _on_resolved(self, resolution: Resolution) -> None:
        self._busy = False
        if self._done:
            return
        for text in resolution.notices:
            self._notice(text)
        if resolution.miner_id:
            # waiting stays as it was until the runner has taken the id: a snapshot taken in between (a
            # Start queued before the UseId) must not read "no id" and open the first-run dialog
            self._done = True
            self._submit(UseId(MinerId(resolution.miner_id, resolution.origin)))
            return
        if not resolution.keyring_error:
            self.waiting = None  # the keyring answered: there is no id (first run)
            self._submit(IdAnswered())
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
        self._submit(IdAnswered())
