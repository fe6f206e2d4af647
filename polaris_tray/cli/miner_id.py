"""--set-miner-id and --forget-miner-id: the keyring from the console (the id never goes through argv)."""

from __future__ import annotations

import sys

from polaris_tray.console import EXIT_CONFIG, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, err

MAX_ID_INPUT = 4096  # a miner id is a few dozen characters: more is a mistake, never read into memory


def without_keyring() -> str:
    """The ways a machine with no keyring (a server) gives the agent its id: none of them is argv."""
    from polaris_tray.core.config.miner_id import CREDENTIAL_NAME, ENV_VAR

    return (
        "Without a keyring (a server), give the id in one of these ways instead: "
        "--miner-id-file PATH (a file of yours, mode 600, holding only the id); "
        f"the systemd credential {CREDENTIAL_NAME} (LoadCredential={CREDENTIAL_NAME}:/path in the unit; "
        "see docs/troubleshooting.md); "
        f"or {ENV_VAR}=<id> in the environment, for one run."
    )


def read_miner_id_input() -> str:
    """One line from the terminal (hidden) or at most MAX_ID_INPUT bytes from a pipe. EOFError: nothing came;
    ValueError: too long, not UTF-8, or more than one line."""
    if sys.stdin.isatty():
        import getpass

        text = getpass.getpass("Miner id (input hidden): ")  # Ctrl-D: EOFError, Ctrl-C: KeyboardInterrupt
    else:
        stream = getattr(sys.stdin, "buffer", None)
        raw = stream.read(MAX_ID_INPUT + 1) if stream else sys.stdin.read(MAX_ID_INPUT + 1).encode()
        if not raw:
            raise EOFError
        if len(raw) > MAX_ID_INPUT:
            raise ValueError(f"The input is longer than {MAX_ID_INPUT} bytes; give only the miner id.")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("The input is not UTF-8 text.") from None
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) > 1:
        raise ValueError(f"The input has {len(lines)} lines; give the miner id on one line.")
    return lines[0] if lines else ""


def miner_id_from_stdin() -> str | int:
    """The text to validate, or the exit code after saying why there is none (end of input 1, Ctrl-C 130)."""
    if sys.stdin is None or sys.stdin.closed:
        err("--set-miner-id reads the id from standard input; none was given.")
        return EXIT_CONFIG
    try:
        return read_miner_id_input()
    except EOFError:
        err("no miner id was given (end of input); nothing was stored.")
        return EXIT_FAILED
    except KeyboardInterrupt:
        err("cancelled; nothing was stored.")
        return EXIT_INTERRUPTED
    except ValueError as exc:
        err(f"{exc} Nothing was stored.")
        return EXIT_CONFIG


def cmd_set_miner_id(args) -> int:
    from polaris_tray.core.config.miner_id import InvalidMinerId, validate_miner_id
    from polaris_tray.core.config.secret_store import SecretStore, SecretStoreError

    text = miner_id_from_stdin()
    if isinstance(text, int):
        return text
    try:
        miner_id = validate_miner_id(text)
    except InvalidMinerId as exc:
        err(f"{exc}")
        return EXIT_CONFIG
    try:
        SecretStore().set(miner_id)
    except SecretStoreError as exc:
        err(f"the miner id was not stored. {exc}")
        err(without_keyring())
        return EXIT_CONFIG
    err("the miner id is stored in the OS keyring.")
    _tell_the_running_agent()
    return EXIT_OK


def _tell_the_running_agent() -> None:
    """A tray already running without an id looks again now (a second launch's message), instead of
    staying "Not configured" until a restart; a headless agent reads its id at start only."""
    from polaris_tray.core.config.run_plan import Overrides, handoff_message
    from polaris_tray.core.platform.instance_dir import InstanceLock, send_to_running

    try:
        lock = InstanceLock()
        if lock.acquire("probe"):
            lock.release()
            return  # nothing runs: the next start reads the keyring
        if lock.holder().startswith("headless"):
            err("a headless agent runs for this user: restart it to use this id.")
        elif send_to_running(handoff_message(Overrides()), lock) == "ok":
            err("the running Polaris Tray was told: with no id yet it uses it now; else at its next start.")
    except OSError:
        pass  # telling the tray is a courtesy: the id is stored either way


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
