"""The miner id in the OS keyring, and nowhere else.

Every keyring call runs on a helper thread with a timeout: a Secret Service waiting on an unlock prompt
must not freeze the app. There is no plain-text fallback, ever: a backend that is not a real OS keyring
(keyring's fail/null backends, keyrings.alt's files) is refused.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from polaris_tray import APP_NAME

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

SERVICE = APP_NAME
ACCOUNT = "miner_id"
DEFAULT_TIMEOUT_S = 5.0

T = TypeVar("T")

NO_KEYRING_HELP = (
    "No OS keyring is available (on Linux: a Secret Service such as GNOME Keyring or KWallet on the "
    "D-Bus session). Start and unlock one, or set the POLARIS_MINER_ID environment variable for this run."
)


class SecretStoreError(Exception):
    """The message says what happened and what to do."""


class SecretStore:
    def __init__(self, timeout_s: float = DEFAULT_TIMEOUT_S, backend: KeyringBackend | None = None) -> None:
        self.timeout_s = timeout_s
        self._backend = backend

    def _keyring(self) -> KeyringBackend:
        if self._backend is not None:
            return self._backend
        import keyring

        backend: KeyringBackend = keyring.get_keyring()
        _refuse_insecure(backend)
        return backend

    def _call(self, what: str, fn: Callable[[KeyringBackend], T]) -> T:
        values: list[T] = []
        errors: list[BaseException] = []

        def run() -> None:
            try:
                values.append(fn(self._keyring()))
            except BaseException as exc:
                errors.append(exc)

        # a thread: a keyring call waiting on an unlock prompt cannot be cut: it is given up after timeout_s
        worker = threading.Thread(target=run, name=f"keyring-{what}", daemon=True)
        worker.start()
        worker.join(self.timeout_s)
        if worker.is_alive():
            raise SecretStoreError(
                f"The OS keyring did not answer within {self.timeout_s:g} s (is it locked, waiting for a "
                "password prompt?). Unlock it and try again."
            )
        if errors:
            raise _translate(errors[0]) from None
        return values[0]

    def get(self) -> str | None:
        return self._call("get", lambda kr: kr.get_password(SERVICE, ACCOUNT))

    def still_locked(self) -> bool:
        """True while the Secret Service collection is known to be locked, asked without a prompt: a
        lookup retried while the user has not unlocked yet must not open one unlock prompt after another.
        False when unlocked or when it cannot be told (other backends): then a real lookup is due."""

        def probe(kr: KeyringBackend) -> bool:
            if type(kr).__module__ != "keyring.backends.SecretService":
                return False
            import secretstorage

            bus = secretstorage.dbus_init()
            try:
                path = getattr(kr, "preferred_collection", None)
                if path:
                    collection = secretstorage.Collection(bus, path)
                else:
                    collection = secretstorage.get_default_collection(bus)
                return bool(collection.is_locked())
            finally:
                bus.close()

        try:
            return self._call("probe", probe)
        except SecretStoreError:
            return False

    def set(self, miner_id: str) -> None:
        self._call("set", lambda kr: kr.set_password(SERVICE, ACCOUNT, miner_id))

    def delete(self) -> bool:
        """True when an id was deleted, False when there was none."""

        def remove(kr: KeyringBackend) -> bool:
            from keyring.errors import PasswordDeleteError

            try:
                kr.delete_password(SERVICE, ACCOUNT)
                return True
            except PasswordDeleteError:
                return False

        return self._call("delete", remove)


def _refuse_insecure(backend: KeyringBackend) -> None:
    from keyring.backends.chainer import ChainerBackend
    from keyring.errors import NoKeyringError

    chained = backend.backends if isinstance(backend, ChainerBackend) else [backend]
    first = chained[0] if chained else None
    if first is None or getattr(first, "priority", 0) < 1:
        raise NoKeyringError(f"refused backend {type(first).__name__}")


def _translate(exc: BaseException) -> SecretStoreError:
    if isinstance(exc, SecretStoreError):
        return exc
    name = type(exc).__name__
    text = str(exc)
    if name == "NoKeyringError" or "No recommended backend" in text:
        return SecretStoreError(NO_KEYRING_HELP)
    if name == "KeyringLocked" or "locked" in text.lower() or "dismissed" in text.lower():
        return SecretStoreError(
            "The OS keyring is locked (or the unlock prompt was dismissed). Unlock it and try again."
        )
    return SecretStoreError(f"The OS keyring failed: {name}: {text}".rstrip(": "))
