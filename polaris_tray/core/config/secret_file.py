"""Reading a secret from a file the way ssh reads a private key: only if nobody else could have read it.

A miner id in a file that group or others may read has leaked already, or soon will; a file owned by
another user (root aside) may have been planted. Both are refused, with the command that fixes them.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

MAX_BYTES = 4096
WINDOWS_REFUSAL = (
    "{path}: a miner id file cannot be checked on Windows (who may read a file is an ACL there, which "
    "this app does not read), so it is refused rather than trusted. Use --set-miner-id (Windows "
    "Credential Manager) or set POLARIS_MINER_ID for the run instead."
)


class UnsafeSecretFile(Exception):
    pass


def read_secret_file(path: Path, *, euid: int | None = None) -> str:
    """The file's text. Checks the opened file itself (fstat), so a swap after the check changes nothing.
    Windows: refused outright, never read unchecked (its mode bits say nothing about other users)."""
    if sys.platform == "win32":
        raise UnsafeSecretFile(WINDOWS_REFUSAL.format(path=path))
    euid = os.geteuid() if euid is None else euid
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise UnsafeSecretFile(f"{path} does not exist.") from None
    except OSError as exc:
        raise UnsafeSecretFile(f"{path} cannot be read: {exc.strerror or exc}.") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UnsafeSecretFile(f"{path} is not a regular file.")
        if st.st_uid not in (euid, 0):
            raise UnsafeSecretFile(
                f"{path} belongs to another user (uid {st.st_uid}); the agent runs as uid {euid}. "
                f"Fix: chown {euid} '{path}' (or put the id in a file of your own)."
            )
        if st.st_mode & 0o077:
            raise UnsafeSecretFile(
                f"{path} can be read by other users (mode {stat.S_IMODE(st.st_mode):o}). "
                f"Fix: chmod 600 '{path}'."
            )
        data = os.read(fd, MAX_BYTES + 1)
    finally:
        os.close(fd)
    if len(data) > MAX_BYTES:
        raise UnsafeSecretFile(f"{path} is larger than {MAX_BYTES} bytes: not a miner id file.")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise UnsafeSecretFile(f"{path} is not UTF-8 text.") from None
