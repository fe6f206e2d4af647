"""One agent per user (or per miner for a service): a private directory holding the lock and the control
socket, chosen from the uid alone so every launch of one user finds the same place whatever its environment.

No Qt here: headless, --quit and the systemd service use it as it is; the tray adds a QLocalServer on the
socket path. A flock dies with its process, so a crash never leaves a lock that blocks the next start.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import socket
import sys
from pathlib import Path

from polaris_tray.core.storage.paths import (
    POSIX,
    UnsafePath,
    ensure_private_dir,
    open_private,
    verify_private_dir,
)

DIR_PREFIX = "polaris-tray"
REPLY_TIMEOUT_S = 3.0
BEATING_MARK = "beating"  # the holder's last word while it sends heartbeats (see note_beating)
MAX_MESSAGE = 65536


class InstanceDirError(OSError):
    """No private place for the lock could be found or made: the app must say so, never guess."""


def instance_name(environ=None) -> str:
    """POLARIS_TRAY_INSTANCE lets the tests run several apps side by side; users have one name."""
    environ = os.environ if environ is None else environ
    name = environ.get("POLARIS_TRAY_INSTANCE") or DIR_PREFIX
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:64]


def _home_of(uid: int) -> Path:
    import pwd

    return Path(pwd.getpwuid(uid).pw_dir)


def _candidates(uid: int) -> list[Path]:
    """In order: the session's runtime dir (/run/user/UID, made by logind, ours and 0700), a dir of ours in
    /tmp, and, when someone squats that name, one in the home from passwd (no other user can make it)."""
    out = []
    run = Path(f"/run/user/{uid}")
    try:
        out.append(verify_private_dir(run, strict=True) / DIR_PREFIX)  # never created by us
    except OSError:
        pass
    out.append(Path("/tmp") / f"{DIR_PREFIX}-{uid}")  # noqa: S108 - made 0700 by us and verified
    try:
        out.append(_home_of(uid) / ".cache" / f"{DIR_PREFIX}-run")
    except (KeyError, ImportError):
        pass
    return out


def instance_dir() -> Path:
    """The verified private directory (owner us, 0700, not a symlink) for this user's lock and socket."""
    if not POSIX:  # Windows and the like: the per-user local app data dir; pipes are per-session there
        import platformdirs

        return ensure_private_dir(platformdirs.user_runtime_path(DIR_PREFIX, appauthor=False))
    refused = []
    for candidate in _candidates(os.geteuid()):
        try:
            return ensure_private_dir(candidate, strict=True)
        except OSError as exc:
            refused.append(f"{candidate}: {exc.strerror or exc}")
    raise InstanceDirError(errno.EPERM, "no private directory for the instance lock; " + "; ".join(refused))


def service_dir(environ=None) -> Path | None:
    """Under systemd, the unit's RuntimeDirectory= (else StateDirectory=): private to the service."""
    environ = os.environ if environ is None else environ
    for key in ("RUNTIME_DIRECTORY", "STATE_DIRECTORY"):
        if environ.get(key):
            return ensure_private_dir(Path(environ[key].split(":")[0]))
    return None


def server_tag(server_url: str) -> str:
    """A short tag of the server an agent beats (its URL without a trailing slash), for the lock's note."""
    return hashlib.sha256(server_url.strip().rstrip("/").encode()).hexdigest()[:12]


def miner_tag(miner_id: str) -> str:
    """A non-reversible tag of the miner id, safe in file names and logs."""
    return hashlib.sha256(f"polaris-tray-miner:{miner_id}".encode()).hexdigest()[:16]


class InstanceLock:
    """An exclusive flock on DIR/NAME.lock. acquire() is False when another process holds it; holder()
    tells who (the mode and pid it wrote), for a clear refusal message."""

    def __init__(self, directory: Path | None = None, name: str | None = None) -> None:
        self.directory = Path(directory) if directory is not None else instance_dir()
        self.name = name or instance_name()
        self.path = self.directory / f"{self.name}.lock"
        self.socket_path = self.directory / f"{self.name}.sock"
        self._fd: int | None = None
        self._mode = ""
        self._beating: str | None = None  # the note last written (None: none yet)

    @classmethod
    def for_miner(cls, miner_id: str, directory: Path) -> InstanceLock:
        """A service's lock: one per miner id in its own directory (see service_dir)."""
        return cls(directory, f"miner-{miner_tag(miner_id)}")

    def acquire(self, mode: str = "agent") -> bool:
        fd = open_private(self.path, os.O_RDWR)
        try:
            _lock(fd)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                return False
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{mode} {os.getpid()}\n".encode())
        self._fd = fd
        self._mode, self._beating = mode, None
        return True

    def note_beating(self, beating: bool, server_url: str = "") -> None:
        """The holder only: whether it sends heartbeats now, and to which server ('tray 1234 beating TAG').
        A tray holds the lock while Stopped or not set up, and an agent beats one server: the doctor must
        not take the lock alone for an agent beating the server it checks."""
        note = f"{BEATING_MARK} {server_tag(server_url)}" if beating else ""
        if self._fd is None or note == self._beating:
            return
        self._beating = note
        text = f"{self._mode} {os.getpid()}{' ' + note if note else ''}\n".encode()
        try:
            os.lseek(self._fd, 0, os.SEEK_SET)
            os.write(self._fd, text)
            os.ftruncate(self._fd, len(text))
        except OSError:
            self._beating = None  # try again on the next change; a reader then sees the old words

    def holder(self) -> str:
        """'tray 1234', 'headless 99' or '' when unknown (read through no symlink, a few bytes only)."""
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        except OSError:
            return ""
        try:
            return os.read(fd, 64).decode(errors="replace").strip()
        finally:
            os.close(fd)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None

    def clear_stale_socket(self) -> None:
        """Called by the lock holder only: remove a socket left by a dead instance, if it is ours."""
        try:
            st = os.lstat(self.socket_path)
        except FileNotFoundError:
            return
        if st.st_uid != os.geteuid():
            raise UnsafePath(errno.EPERM, "someone else's file at the socket path", str(self.socket_path))
        os.unlink(self.socket_path)


def _lock(fd: int) -> None:
    if POSIX:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    else:  # pragma: no cover - Windows
        if sys.platform != "win32":  # as the import would; the check also tells the type checker
            raise ModuleNotFoundError("msvcrt exists only on Windows")
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)


def send_to_running(message: dict, lock: InstanceLock | None = None) -> str | None:
    """The running instance's one-line reply over the control socket, or None when nothing answers.
    Plain AF_UNIX: no display and no Qt needed, so `--quit` works from any shell."""
    path = (lock or InstanceLock()).socket_path
    try:
        st = os.lstat(path)
        if st.st_uid != os.geteuid():
            return None  # never talk to a socket someone else made
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(REPLY_TIMEOUT_S)
            sock.connect(str(path))
            sock.sendall(json.dumps(message).encode() + b"\n")
            reply = b""
            while b"\n" not in reply and len(reply) < MAX_MESSAGE:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                reply += chunk
    except OSError:
        return None
    return reply.decode(errors="replace").strip() or None
