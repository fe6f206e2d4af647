"""--set-miner-id and --forget-miner-id: the keyring from the console (the id never goes through argv)."""

from __future__ import annotations

import sys

from polaris_tray.console import EXIT_CONFIG, EXIT_OK, err


def cmd_set_miner_id(args) -> int:
    from polaris_tray.core.config.miner_id import InvalidMinerId, validate_miner_id
    from polaris_tray.core.config.secret_store import SecretStore, SecretStoreError

    if sys.stdin is None or sys.stdin.closed:
        err("--set-miner-id reads the id from standard input; none was given.")
        return EXIT_CONFIG
    if sys.stdin.isatty():
        import getpass

        text = getpass.getpass("Miner id (input hidden): ")
    else:
        text = sys.stdin.readline()
    try:
        miner_id = validate_miner_id(text)
    except InvalidMinerId as exc:
        err(f"{exc}")
        return EXIT_CONFIG
    try:
        SecretStore().set(miner_id)
    except SecretStoreError as exc:
        err(f"the miner id was not stored. {exc}")
        return EXIT_CONFIG
    err("the miner id is stored in the OS keyring.")
    return EXIT_OK


def cmd_forget_miner_id(args) -> int:
    from polaris_tray.core.config.secret_store import SecretStore, SecretStoreError

    try:
        deleted = SecretStore().delete()
    except SecretStoreError as exc:
        err(f"{exc}")
        return EXIT_CONFIG
    err(
        "the miner id was deleted from the OS keyring."
        if deleted
        else "no miner id was stored in the OS keyring."
    )
    return EXIT_OK
