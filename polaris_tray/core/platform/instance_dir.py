"""One agent per user (or per miner for a service): a private directory holding the lock and the control
socket, chosen from the uid alone so every launch of one user finds the same place whatever its environment.

No Qt here: headless, --quit and the systemd service use it as it is; the tray adds a QLocalServer on the
control channel. A lock dies with its process, so a crash never leaves a lock that blocks the next start.

A socket's path must fit in sockaddr_un (104 bytes on macOS, 108 on Linux): when the one beside the lock
would not (a long home on macOS), the socket alone moves to the short per-user directory under /tmp, named
by a hash of the path it would have had, so every launch computes the same one (see socket_path_for).

One rule on every OS: the lock file's first line says who holds it ("tray 1234"), its second names the
holder's control channel; the platform supplies the lock (flock; on Windows a mandatory msvcrt lock on one
byte far past the text, so the text stays readable) and the channel (a socket in the private directory; on
Windows a named pipe whose name holds a random token only this user can read in that file, so no other
user or session can guess, squat or reach it).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import secrets
import socket
import sys
from collections.abc import Mapping
from pathlib import Path

from polaris_tray.core.storage.paths import (
    UnsafePath,
    binary_flag,
    ensure_private_dir,
    open_private,
    verify_private_dir,
)

DIR_PREFIX = "polaris-tray"
REPLY_TIMEOUT_S = 3.0
BEATING_MARK = "beating"  # the holder's last word while it sends heartbeats (see note_beating)
MAX_MESSAGE = 65536
LOCK_OFFSET = 1 << 20  # Windows: the byte locked, past the text (a locked byte cannot be read there)
CHANNEL_KEY = "channel"
TMP_ROOT = Path("/tmp")  # noqa: S108 - short on every Unix (macOS' $TMPDIR is not); dirs there are 0700 and ours


class InstanceDirError(OSError):
    """No private place for the lock could be found or made: the app must say so, never guess."""


def instance_name(environ: Mapping[str, str] | None = None) -> str:
    """POLARIS_TRAY_INSTANCE lets the tests run several apps side by side; users have one name."""
    environ = os.environ if environ is None else environ
    name = environ.get("POLARIS_TRAY_INSTANCE") or DIR_PREFIX
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:64]


def _home_of(uid: int) -> Path:
    if sys.platform == "win32":
        raise KeyError(uid)
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
    out.append(_tmp_dir(uid))
    try:
        out.append(_home_of(uid) / ".cache" / f"{DIR_PREFIX}-run")
    except (KeyError, ImportError):
        pass
    return out


def _tmp_dir(uid: int) -> Path:
    """This user's directory under /tmp (made 0700 and verified by whoever uses it)."""
    return TMP_ROOT / f"{DIR_PREFIX}-{uid}"


def _sun_path_size() -> int:
    """sizeof(sockaddr_un.sun_path): 104 on macOS and the BSDs, 108 on Linux."""
    return 108 if sys.platform.startswith("linux") else 104


def socket_path_for(directory: Path, name: str) -> Path:
    """DIR/NAME.sock when Qt can bind its path (QLocalServer takes up to sun_path's size less 2 bytes: 106
    on Linux, 102 on macOS); else /tmp/polaris-tray-UID/HASH.sock, HASH from that longer path: the same for
    every launch of this user and this directory, short (about 45 bytes), and in a directory only this user
    can have made (the holder makes and verifies it in clear_stale_socket; a client refuses it unless it
    is ours and 0700)."""
    preferred = directory / f"{name}.sock"
    if sys.platform == "win32" or len(os.fsencode(preferred)) <= _sun_path_size() - 2:
        return preferred
    digest = hashlib.sha256(os.fsencode(preferred)).hexdigest()[:20]
    return _tmp_dir(os.geteuid()) / f"{digest}.sock"


def instance_dir() -> Path:
    """The verified private directory (owner us, 0700, not a symlink) for this user's lock and socket."""
    import platformdirs

    if sys.platform == "win32":  # %LOCALAPPDATA%/Temp/polaris-tray: the profile's ACLs keep others out
        return ensure_private_dir(platformdirs.user_runtime_path(DIR_PREFIX, appauthor=False))
    if sys.platform == "darwin":
        # Not /tmp nor $TMPDIR: macOS deletes files there untouched for 3 days, lock file included, and a
        # later launch would lock a new file beside a running agent. Application Support is never swept
        # (Caches may be purged when the disk fills).
        path = platformdirs.user_data_path(DIR_PREFIX, appauthor=False) / "run"
        return ensure_private_dir(path, strict=True)
    refused = []
    for candidate in _candidates(os.geteuid()):
        try:
            return ensure_private_dir(candidate, strict=True)
        except OSError as exc:
            refused.append(f"{candidate}: {exc.strerror or exc}")
    raise InstanceDirError(errno.EPERM, "no private directory for the instance lock; " + "; ".join(refused))


def service_dir(environ: Mapping[str, str] | None = None) -> Path | None:
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
        self.socket_path = socket_path_for(self.directory, self.name)
        self._fd: int | None = None
        self._mode = ""
        self._beating: str | None = None  # the note last written (None: none yet)
        self._token: str | None = None

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
        self._token = secrets.token_hex(16)
        os.lseek(fd, 0, os.SEEK_SET)
        os.ftruncate(fd, 0)
        os.write(fd, f"{mode} {os.getpid()}\n{CHANNEL_KEY} {self._token}\n".encode())
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
        text = (
            f"{self._mode} {os.getpid()}{' ' + note if note else ''}\n{CHANNEL_KEY} {self._token}\n".encode()
        )
        try:
            os.lseek(self._fd, 0, os.SEEK_SET)
            os.write(self._fd, text)
            os.ftruncate(self._fd, len(text))
        except OSError:
            self._beating = None  # try again on the next change; a reader then sees the old words

    def _lines(self) -> list[str]:
        """The lock file's text (read through no symlink, a few bytes only); [] when it cannot be read."""
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | binary_flag()
        try:
            fd = os.open(self.path, flags)
        except OSError:
            return []
        try:
            data = os.read(fd, 256)
        except OSError:  # a lock over the bytes read (Windows), an I/O error: unknown, never a traceback
            return []
        finally:
            os.close(fd)
        return data.decode(errors="replace").splitlines()

    def holder(self) -> str:
        """'tray 1234', 'headless 99' or '' when unknown."""
        lines = self._lines()
        return lines[0].strip() if lines else ""

    def channel(self) -> str:
        """Where the holder listens: the socket's path; on Windows a named pipe of this user and session
        whose name ends in the holder's token ('' when no holder wrote one)."""
        if sys.platform != "win32":
            return str(self.socket_path)
        token = self._token
        if token is None:
            words = [line.split() for line in self._lines()[1:2]]
            token = words[0][1] if words and len(words[0]) == 2 and words[0][0] == CHANNEL_KEY else None
        if not token or not token.isalnum():
            return ""
        return f"{DIR_PREFIX}-{self.name}-{_user_tag()}-s{_session()}-{token}"

    def release(self) -> None:
        if self._fd is not None:
            _unlock(self._fd)
            os.close(self._fd)  # closing drops the lock
            self._fd = None
            self._token = None

    def clear_stale_socket(self) -> None:
        """Called by the lock holder only, before it listens: make sure the socket's directory is ours (the
        short one under /tmp when the path beside the lock is too long), and remove a socket left by a dead
        instance, if it is ours. UnsafePath when someone else holds either."""
        if sys.platform == "win32":  # a pipe goes with its process
            return
        if self.socket_path.parent != self.directory:
            ensure_private_dir(self.socket_path.parent, strict=True)
        try:
            st = os.lstat(self.socket_path)
        except FileNotFoundError:
            return
        if st.st_uid != os.geteuid():
            raise UnsafePath(errno.EPERM, "someone else's file at the socket path", str(self.socket_path))
        os.unlink(self.socket_path)


def _lock(fd: int) -> None:
    if sys.platform == "win32":
        import msvcrt

        os.lseek(fd, LOCK_OFFSET, os.SEEK_SET)  # locking() starts at the file position
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _unlock(fd: int) -> None:
    """Windows frees a closed handle's locks "after a time the OS decides": unlock first. flock: close."""
    if sys.platform == "win32":
        import msvcrt

        try:
            os.lseek(fd, LOCK_OFFSET, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        except OSError:
            pass


def _user_tag() -> str:
    import getpass

    try:
        user = getpass.getuser()
    except (OSError, KeyError, ImportError):
        user = ""
    return hashlib.sha256(user.lower().encode()).hexdigest()[:8]


def _session() -> int:
    if sys.platform != "win32":
        return 0
    from polaris_tray.core.platform.win32 import session_id

    try:
        return session_id()
    except OSError:
        return 0


def send_to_running(message: Mapping[str, object], lock: InstanceLock | None = None) -> str | None:
    """The running instance's one-line reply over the control socket, or None when nothing answers.
    Plain AF_UNIX: no display and no Qt needed, so `--quit` works from any shell. (Windows has no AF_UNIX
    in Python 3.11: the pipe is reached through gui.single_instance.send_to_running.)"""
    if sys.platform == "win32":
        return None
    lock = lock or InstanceLock()
    path = lock.socket_path
    try:
        if path.parent != lock.directory:  # the short directory under /tmp: never one someone else made
            verify_private_dir(path.parent, strict=True)
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
