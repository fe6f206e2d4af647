"""Where the app keeps its files, and how it writes them: private and atomic."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import platformdirs

from polaris_tray import APP_NAME

POSIX = os.name == "posix"


def config_dir() -> Path:
    return platformdirs.user_config_path(APP_NAME, appauthor=False)


def state_dir() -> Path:
    return platformdirs.user_state_path(APP_NAME, appauthor=False)


def log_dir() -> Path:
    return platformdirs.user_log_path(APP_NAME, appauthor=False)


def ensure_private_dir(path: Path) -> Path:
    """Create path and any missing parents as 0700: every directory we add is ours alone."""
    path = Path(path)
    missing = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=0o700)
        except FileExistsError:
            pass
        if POSIX:
            os.chmod(directory, 0o700)
    return path


def write_private_file(path: Path, data: bytes) -> None:
    """Temp file, fsync, rename: a crash leaves the old file or the new one, never half of either."""
    path = Path(path)
    ensure_private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if POSIX:
            os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def open_private_append(path: Path):
    """Open for appending, created 0600 whatever the umask."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    if POSIX:
        os.fchmod(fd, 0o600)
    return os.fdopen(fd, "a", encoding="utf-8")
