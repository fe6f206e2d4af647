"""What the GPU readers share: the read error, log-once, and reading a sysfs number."""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger("polaris_tray.core.heartbeat.gpu")


class GpuReadError(Exception):
    """A reading the whole GPU report depends on failed (utilisation or memory)."""


class OnceLogger:
    """Logs each distinct message once: a driver error repeats every beat, the log must not."""

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def __call__(self, level: int, message: str) -> None:
        if message not in self._seen:
            self._seen.add(message)
            log.log(level, "%s", message)


def read_number(path: Path) -> int | None:
    """One integer from a sysfs file; None where the file is absent or says something else."""
    try:
        return int(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError, UnicodeDecodeError):
        return None
