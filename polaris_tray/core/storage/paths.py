"""Where the app keeps its files, and how it writes them: private and atomic."""

from __future__ import annotations

import errno
import io
import os
import stat
import sys
import tempfile
from pathlib import Path

import platformdirs

from polaris_tray import APP_NAME

POSIX = sys.platform != "win32"  # for callers; the code checks sys.platform where it acts (mypy reads that)


def config_dir() -> Path:
    return platformdirs.user_config_path(APP_NAME, appauthor=False)


def state_dir() -> Path:
    return platformdirs.user_state_path(APP_NAME, appauthor=False)


def log_dir() -> Path:
    return platformdirs.user_log_path(APP_NAME, appauthor=False)


class UnsafePath(OSError):
    """A path we will not write through: a symlink, someone else's directory or file, a shared directory."""


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def binary_flag() -> int:
    """O_BINARY on Windows: without it the C runtime writes '\n' as '\r\n' and a read stops at Ctrl-Z."""
    return getattr(os, "O_BINARY", 0) if sys.platform == "win32" else 0


def _euid() -> int:
    if sys.platform == "win32":
        return -1
    return os.geteuid()


def verify_private_dir(path: Path, *, strict: bool = False) -> Path:
    """Refuse a directory others could plant files in: it must be a real directory (not a symlink), ours,
    and not writable by group or others (strict: no access for them at all)."""
    path = Path(path)
    if sys.platform == "win32":  # no modes or uids: a profile's ACLs keep other users out of %LOCALAPPDATA%
        return path
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
        raise UnsafePath(errno.ENOTDIR, "not a real directory (a symlink or a file)", str(path))
    if st.st_uid != _euid():
        raise UnsafePath(errno.EPERM, f"owned by uid {st.st_uid}, not by us", str(path))
    # A group-writable dir is fine when the group is our own (user-private groups, umask 002).
    shared = st.st_mode & 0o002 or (st.st_mode & 0o020 and st.st_gid != os.getegid())
    if (st.st_mode & 0o077) if strict else shared:
        raise UnsafePath(errno.EPERM, f"open to other users (mode {st.st_mode & 0o777:o})", str(path))
    return path


def _make_dir(directory: Path) -> None:
    """mkdir 0700 whatever the umask: the mode is set through a no-follow handle on what we just made."""
    try:
        directory.mkdir(mode=0o700)
    except FileExistsError:
        return  # not ours to chmod; the final check decides whether we can use it
    if sys.platform != "win32":  # Windows cannot open a directory, and has no mode to set
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | _NOFOLLOW | _CLOEXEC)
        try:
            os.fchmod(fd, 0o700)
        finally:
            os.close(fd)


def ensure_private_dir(path: Path, *, strict: bool = False) -> Path:
    """Create path and any missing parents as 0700, then verify the last one (see verify_private_dir)."""
    path = Path(path)
    missing = []
    probe = path
    while not os.path.lexists(probe):
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for directory in reversed(missing):
        _make_dir(directory)
    return verify_private_dir(path, strict=strict)


def open_private(path: Path, flags: int) -> int:
    """An fd on path in a verified directory, never through a symlink: created 0600, or an existing
    regular file of ours with one link (a hard link could point at anyone's file)."""
    path = Path(path)
    base = flags | _NOFOLLOW | _CLOEXEC | binary_flag()
    try:
        fd = os.open(path, base | os.O_CREAT | os.O_EXCL, 0o600)
        created = True
    except FileExistsError:
        try:
            fd = os.open(path, base | getattr(os, "O_NONBLOCK", 0))
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise UnsafePath(errno.ELOOP, "a symlink; not followed", str(path)) from None
            raise
        created = False
    try:
        if sys.platform != "win32":
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_uid != _euid() or (not created and st.st_nlink != 1):
                raise UnsafePath(errno.EPERM, "not a private regular file of ours", str(path))
            if created or st.st_mode & 0o077:
                os.fchmod(fd, 0o600)  # ours, reached without a symlink: safe to tighten
            if not created and hasattr(os, "O_NONBLOCK"):
                os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def write_private_file(path: Path, data: bytes) -> None:
    """Temp file, fsync, rename: a crash leaves the old file or the new one, never half of either."""
    path = Path(path)
    ensure_private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            if sys.platform != "win32":
                os.fchmod(handle.fileno(), 0o600)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def open_private_append(path: Path) -> io.TextIOWrapper:
    """Open for appending, created 0600 whatever the umask, never through a symlink."""
    return os.fdopen(open_private(path, os.O_WRONLY | os.O_APPEND), "a", encoding="utf-8")
