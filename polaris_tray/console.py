"""Console output and exit codes, shared by every shell (the CLI, the tray's launcher, headless).

A windowed Windows build has no console: sys.stdout and sys.stderr are None there, so every write checks.
"""

from __future__ import annotations

import sys

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2
EXIT_NOT_RUNNING = 3  # --quit: no agent runs for this user
EXIT_ALREADY_RUNNING = 4  # another agent (tray or headless) already runs for this user or miner
EXIT_INTERRUPTED = 130  # Ctrl-C at a prompt, as a shell reports SIGINT


def out(text: str) -> None:
    if sys.stdout is not None:
        sys.stdout.write(text)
        sys.stdout.flush()


def err(text: str) -> None:
    if sys.stderr is not None:
        sys.stderr.write(f"polaris-tray: {text}\n")
