"""--quit: tell the running tray to quit, over its private control channel only (no display)."""

from __future__ import annotations

import sys
import time

from polaris_tray.console import EXIT_FAILED, EXIT_NOT_RUNNING, EXIT_OK, err
from polaris_tray.core.config.run_plan import QUIT_MESSAGE

QUIT_WAIT_S = 5.0


def cmd_quit(args) -> int:
    """Talks to the running app over its private channel only: no display; Qt only on Windows, whose
    Python has no AF_UNIX and whose tray listens on a named pipe (Qt's own client speaks to it)."""
    from polaris_tray.core.platform.instance_dir import InstanceLock

    if sys.platform == "win32":
        from polaris_tray.gui.single_instance import send_to_running
    else:
        from polaris_tray.core.platform.instance_dir import send_to_running

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
    if send_to_running(QUIT_MESSAGE, lock) != "ok":
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
