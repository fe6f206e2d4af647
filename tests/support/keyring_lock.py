"""Lock and unlock a real gnome-keyring over the Secret Service API, as a user's session would."""

from __future__ import annotations

import os
from contextlib import contextmanager

PASSWORD = b"polaris-test-password"  # the one tests/support/services.py unlocks its keyring with


@contextmanager
def _connection(env: dict):
    import secretstorage

    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        conn = secretstorage.dbus_init()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    try:
        yield conn
    finally:
        conn.close()


def lock(env: dict) -> None:
    """org.freedesktop.Secret.Service.Lock on the default collection (no prompt needed)."""
    import secretstorage

    with _connection(env) as conn:
        collection = secretstorage.get_default_collection(conn)
        collection.lock()
        assert collection.is_locked()


def unlock(env: dict) -> None:
    """The unlock a login or a password prompt does: gnome-keyring's master-password call, no prompt."""
    import secretstorage
    from jeepney import DBusAddress, new_method_call
    from secretstorage.util import format_secret, open_session

    with _connection(env) as conn:
        collection = secretstorage.get_default_collection(conn)
        secret = format_secret(open_session(conn), PASSWORD, "text/plain")
        address = DBusAddress(
            "/org/freedesktop/secrets",
            bus_name="org.freedesktop.secrets",
            interface="org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface",
        )
        conn.send_and_get_reply(
            new_method_call(
                address, "UnlockWithMasterPassword", "o(oayays)", (collection.collection_path, secret)
            )
        )
        assert not collection.is_locked()


def store_id(env: dict, miner_id: str) -> None:
    import subprocess

    subprocess.run(
        [
            "secret-tool",
            "store",
            "--label=Polaris Tray miner id",
            "service",
            "polaris-tray",
            "username",
            "miner_id",
        ],
        input=miner_id,
        env={**os.environ, **env},
        check=True,
        capture_output=True,
        text=True,
        timeout=20,
    )
