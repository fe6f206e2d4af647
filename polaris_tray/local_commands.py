"""The CLI's local commands: the one-agent lock for headless, `--quit` (no Qt, no display) and reading the
miner id from standard input. Apart from cli.py so that file stays small.
"""

from __future__ import annotations

import sys

from polaris_tray.cli import EXIT_ALREADY_RUNNING, EXIT_CONFIG, EXIT_FAILED, EXIT_NOT_RUNNING, EXIT_OK, err

QUIT_WAIT_S = 5.0
EXIT_INTERRUPTED = 130  # Ctrl-C at the prompt, as a shell reports SIGINT


def take_agent_lock(miner_id: str | None):
    """The tray's per-user lock, or under systemd one per miner in the unit's own directory."""
    from polaris_tray.core.platform.instance_dir import InstanceLock, service_dir

    try:
        directory = service_dir()
        lock = InstanceLock.for_miner(miner_id or "", directory) if directory else InstanceLock()
        if lock.acquire("headless"):
            return lock
    except OSError as exc:
        err(f"cannot take the single-instance lock: {exc}")
        return EXIT_FAILED
    holder = lock.holder() or "unknown"
    err(f"another agent already runs for this {'miner' if directory else 'user'} ({holder}); not starting.")
    return EXIT_ALREADY_RUNNING


def cmd_quit(args) -> int:
    """Talks to the running app over its private socket only: no Qt, no display."""
    import time

    from polaris_tray.core.platform.instance_dir import InstanceLock, send_to_running

    try:
        lock = InstanceLock()
        if lock.acquire("probe"):
            lock.release()
            err("no Polaris Tray is running for this user; nothing to quit.")
            return EXIT_NOT_RUNNING
    except OSError as exc:
        err(f"cannot reach the running app: {exc}")
        return EXIT_FAILED
    holder = lock.holder()
    if holder.startswith("headless"):
        err(f"the running agent is headless ({holder}); stop it with SIGTERM or its service manager.")
        return EXIT_FAILED
    if send_to_running(["--quit"], lock) != "ok":
        err("the running app did not answer.")
        return EXIT_FAILED
    deadline = time.monotonic() + QUIT_WAIT_S
    while time.monotonic() < deadline:
        if lock.acquire("probe"):
            lock.release()
            err("the running app has quit.")
            return EXIT_OK
        time.sleep(0.1)
    err("the running app was asked to quit but is still running.")
    return EXIT_FAILED


MAX_ID_INPUT = 4096  # a miner id is a few dozen characters: more is a mistake, never read into memory


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
