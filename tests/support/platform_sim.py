"""Our code on Linux as a simulated Windows (win32) or macOS (darwin): in this process (the `win32` and
`darwin` fixtures of tests/platform/conftest.py) or in a child (sim_env() puts
platform_sim_boot/sitecustomize.py on its PYTHONPATH, which calls install() before our modules import).

What install() does:
- sys.platform is the simulated one; the standard library and the compiled dependencies (psutil, PySide6,
  requests) are imported first, as on Linux, so only our own code branches on the simulated platform.
- win32: what Windows' CPython 3.11 lacks is gone: fcntl, pwd, grp, termios, resource; os.getuid and kin,
  fchmod, fchown, O_NOFOLLOW, O_CLOEXEC, O_NONBLOCK, O_DIRECTORY, set_blocking, getloadavg,
  register_at_fork, fork; socket.AF_UNIX and SOCK_CLOEXEC; time.clock_gettime and every CLOCK_*; SIGHUP,
  the other POSIX signals, pthread_sigmask and sigwait (in a child only: pytest's timeout needs them).
  Kept: statvfs, sysconf and uname, which the Linux psutil and platform loaded here call themselves.
  os.O_BINARY exists; os.open, called by our code, refuses a directory and notes every regular file
  opened without O_BINARY (text mode: CRLF on write, Ctrl-Z ends a read); os.dup refuses a socket as it
  refuses a SOCKET handle; socket.socketpair is the loopback TCP pair Windows has; msvcrt, winreg and
  ctypes.windll.kernel32 are the fakes of platform_sim_win.py; platformdirs resolves %APPDATA% and
  %LOCALAPPDATA%, which sim_env() puts under the test's HOME; disk_usage of "C:\\" reads "/";
  time.monotonic counts suspended time, as Windows' does.
- darwin: CLOCK_BOOTTIME, SOCK_CLOEXEC and the Linux-only os functions are gone; CLOCK_MONOTONIC counts
  sleep and CLOCK_UPTIME_RAW does not, as on macOS; time.monotonic does not count sleep.

What it proves: that our code takes the branch meant for that OS, calls only what that OS's Python has,
survives Windows' mandatory locks and socket handles, agrees with itself across processes (lock, control
channel, registry), and does the arithmetic of its clocks right.
What it cannot prove: anything the real OS decides. Qt still runs its Linux backends (a Windows named pipe
is Qt's local socket here, so pipe ACLs and squatting are not exercised; Cocoa's tray and Notification
Center are absent), paths keep '/' separators and POSIX semantics (no drive letters, no sharing
violations on rename or delete, no case-insensitive file names), NTFS ACLs and Gatekeeper do not exist,
and the fakes are only as right as their docstrings. Those need a real machine: docs/platforms.md lists them.
"""

from __future__ import annotations

import errno
import importlib
import os
import socket
import stat
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
BOOT_DIR = Path(__file__).resolve().parent / "platform_sim_boot"
PLATFORM_VAR = "POLARIS_SIM_PLATFORM"
UPTIME_VAR = "POLARIS_SIM_UPTIME_S"  # what the simulated OS says its uptime is, at the child's start
SESSION_VAR = "POLARIS_SIM_SESSION"
SIM_USER = "simuser"
PLATFORMS = ("win32", "darwin")

# Imported on Linux terms before the switch: their own platform branches are not what is under test.
_PRELOAD = (
    "subprocess", "platform", "uuid", "ctypes", "ctypes.util", "ctypes.wintypes", "urllib.request",
    "mimetypes", "getpass", "tempfile", "shutil", "selectors", "ssl", "http.client", "logging.handlers",
    "sqlite3", "psutil", "requests", "urllib3", "PySide6", "shiboken6", "plistlib",
)  # fmt: skip
_WIN_GONE_MODULES = ("fcntl", "pwd", "grp", "termios", "resource", "syslog", "posix_ipc")
_WIN_GONE_OS = (
    "getuid", "geteuid", "getgid", "getegid", "getgroups", "setuid", "seteuid", "fchmod", "fchown",
    "chown", "lchown", "getpwuid", "O_NOFOLLOW", "O_CLOEXEC", "O_NONBLOCK", "O_DIRECTORY", "O_NOCTTY",
    "O_SYNC", "O_DSYNC", "set_blocking", "get_blocking", "getloadavg", "register_at_fork", "fork", "killpg",
    "getpgid", "setsid", "sync", "pipe2", "openpty", "mkfifo", "mknod",
    "sched_getaffinity", "getxattr", "memfd_create", "eventfd", "posix_spawn",
    "getresuid", "initgroups", "WNOHANG",
)  # fmt: skip
_WIN_GONE_SOCKET = ("AF_UNIX", "SOCK_CLOEXEC", "SOCK_NONBLOCK", "AF_NETLINK", "AF_PACKET", "SO_PEERCRED")
_WIN_GONE_SIGNAL = (
    "SIGHUP", "SIGQUIT", "SIGKILL", "SIGUSR1", "SIGUSR2", "SIGALRM", "SIGCHLD", "SIGPIPE", "SIGCONT",
    "SIGSTOP", "SIGTSTP", "pthread_sigmask", "sigwait", "pthread_kill", "setitimer", "alarm", "siginterrupt",
    "SIG_BLOCK", "SIG_UNBLOCK", "SIG_SETMASK", "sigpending", "sigtimedwait",
)  # fmt: skip
_DARWIN_GONE_OS = (
    "sched_getaffinity", "pipe2", "memfd_create", "eventfd", "getxattr", "O_PATH", "O_TMPFILE",
    "posix_fadvise", "getresuid",
)  # fmt: skip
_LINUX_CLOCKS = (
    "CLOCK_BOOTTIME", "CLOCK_TAI", "CLOCK_MONOTONIC_RAW", "CLOCK_PROCESS_CPUTIME_ID",
    "CLOCK_THREAD_CPUTIME_ID", "CLOCK_REALTIME", "CLOCK_MONOTONIC", "CLOCK_HIGHRES", "CLOCK_UPTIME",
)  # fmt: skip


class DirectPatch:
    """The monkeypatch interface install() uses, for a child process that never undoes it."""

    def setattr(self, target, name, value, raising=False) -> None:
        setattr(target, name, value)

    def delattr(self, target, name, raising=False) -> None:
        if hasattr(target, name):
            delattr(target, name)

    def setitem(self, mapping, name, value) -> None:
        mapping[name] = value

    def delitem(self, mapping, name, raising=False) -> None:
        mapping.pop(name, None)


class Simulation:
    """What install() set up: the clocks a test may move and the opens it may inspect."""

    def __init__(self, platform: str, clocks) -> None:
        self.platform = platform
        self.clocks = clocks
        self.text_mode_opens: list[str] = []

    def suspend(self, seconds: float) -> None:
        """The machine sleeps: the clocks that count sleep jump, the others do not."""
        self.clocks.slept += seconds


def text_mode_log(environ) -> Path:
    """Where a simulated Windows process lists the files it opened without O_BINARY."""
    path = Path(environ.get("HOME", "/nonexistent")) / ".polaris-sim" / "text-mode-opens.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def sim_env(platform: str, env: dict, *, uptime_s: float | None = None, session: int = 1) -> dict:
    """A child's environment that runs under the simulation (see tests/support/app.py's app_env)."""
    assert platform in PLATFORMS
    env = dict(env)
    env[PLATFORM_VAR] = platform
    env["PYTHONPATH"] = os.pathsep.join([str(BOOT_DIR), env.get("PYTHONPATH", str(ROOT))])
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"  # no OS keyring is simulated
    if uptime_s is not None:
        env[UPTIME_VAR] = str(uptime_s)
    home = Path(env["HOME"])
    if platform == "win32":
        env.update(
            USERNAME=SIM_USER,
            USERPROFILE=str(home),
            APPDATA=str(home / "AppData" / "Roaming"),
            LOCALAPPDATA=str(home / "AppData" / "Local"),
            SystemDrive="C:",
        )
        env[SESSION_VAR] = str(session)
    return env


def install(platform: str, patch=None, environ=None) -> Simulation:
    """Switch this process to the simulated platform (patch: pytest's monkeypatch, or DirectPatch)."""
    assert platform in PLATFORMS
    patch = patch or DirectPatch()
    environ = os.environ if environ is None else environ
    for name in _PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    from tests.support import platform_sim_win as win

    uptime = environ.get(UPTIME_VAR)
    clocks = win.SimClocks(float(uptime) if uptime else None)
    sim = Simulation(platform, clocks)
    patch.setattr(sys, "platform", platform)
    if platform == "win32":
        _install_windows(sim, patch, environ, win)
    else:
        _install_darwin(sim, patch)
    for name in [m for m in sys.modules if m == "platformdirs" or m.startswith("platformdirs.")]:
        patch.delitem(sys.modules, name)
    import platformdirs  # again: it picks its class by sys.platform when imported

    for module in [m for name, m in sys.modules.items() if name.startswith("polaris_tray") and m]:
        if getattr(module, "platformdirs", None) is not None:  # already imported in this process
            patch.setattr(module, "platformdirs", platformdirs)
    if platform == "win32":
        import platformdirs.windows as pd_windows

        resolve = pd_windows.get_win_folder_from_env_vars
        if hasattr(pd_windows, "_RESOLVE_WIN_FOLDER"):
            patch.setattr(pd_windows, "_RESOLVE_WIN_FOLDER", resolve)
        else:  # older platformdirs
            patch.setattr(pd_windows, "get_win_folder", resolve)
    return sim


def _install_windows(sim: Simulation, patch, environ, win) -> None:
    import ctypes

    import psutil

    for name in _WIN_GONE_MODULES:
        patch.setitem(sys.modules, name, None)  # `import fcntl` raises ImportError
    real_open, real_dup, real_read, real_write = os.open, os.dup, os.read, os.write
    for name in _WIN_GONE_OS:
        patch.delattr(os, name, raising=False)
    for name in _WIN_GONE_SOCKET:
        patch.delattr(socket, name, raising=False)
    import signal

    if isinstance(patch, DirectPatch):  # a child: in pytest's own process its timeout needs setitimer
        for name in _WIN_GONE_SIGNAL:
            patch.delattr(signal, name, raising=False)
    patch.setattr(signal, "SIGBREAK", 21, raising=False)
    for name in (*_LINUX_CLOCKS, "clock_gettime", "clock_gettime_ns", "clock_settime", "clock_getres"):
        patch.delattr(time, name, raising=False)
    patch.setattr(time, "monotonic", sim.clocks.process_monotonic)  # GetTickCount64 (3.11): counts sleep
    patch.setattr(time, "time", sim.clocks.wall)
    patch.setattr(os, "O_BINARY", win.O_BINARY, raising=False)
    patch.setattr(os, "O_TEXT", win.O_TEXT, raising=False)

    def sim_open(path, flags, mode=0o777, *, dir_fd=None):
        # Only our own calls: the standard library loaded here is Linux's and opens directories itself.
        ours = sys._getframe(1).f_globals.get("__name__", "").startswith("polaris_tray")
        if ours and os.path.isdir(path):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        fd = real_open(path, flags & ~win.O_BINARY, mode, dir_fd=dir_fd)
        if ours and not flags & win.O_BINARY and stat.S_ISREG(os.fstat(fd).st_mode):
            sim.text_mode_opens.append(str(path))
            with open(text_mode_log(environ), "a") as log:  # for the parent of a simulated child
                log.write(f"{path}\n")
        return fd

    def sim_dup(fd):
        if stat.S_ISSOCK(os.fstat(fd).st_mode):
            raise OSError(errno.EBADF, "Bad file descriptor")  # a SOCKET is not a CRT file descriptor
        return real_dup(fd)

    def sim_socketpair(family=socket.AF_INET, type=socket.SOCK_STREAM, proto=0):
        with socket.socket(family, type, proto) as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen(1)
            left = socket.socket(family, type, proto)
            left.connect(listener.getsockname())
            right, _ = listener.accept()
        return left, right

    read, write = win.mandatory_io(real_read, real_write)
    patch.setattr(os, "open", sim_open)
    patch.setattr(os, "dup", sim_dup)
    patch.setattr(os, "read", read)
    patch.setattr(os, "write", write)
    patch.setattr(socket, "socketpair", sim_socketpair)
    registry = Path(environ.get("HOME", "/nonexistent")) / ".polaris-sim" / "registry.json"
    patch.setitem(sys.modules, "msvcrt", win.FakeMsvcrt())
    patch.setitem(sys.modules, "winreg", win.FakeWinreg(registry))
    kernel32 = win.FakeKernel32(sim.clocks, int(environ.get(SESSION_VAR, "1")))
    patch.setattr(ctypes, "windll", win.FakeWinDLLs(kernel32), raising=False)
    patch.setattr(ctypes, "WinError", lambda code=None, descr=None: OSError(code, descr), raising=False)
    real_disk_usage = psutil.disk_usage
    patch.setattr(psutil, "disk_usage", lambda p: real_disk_usage("/" if p[1:3] == ":\\" else p))


def _install_darwin(sim: Simulation, patch) -> None:
    for name in _DARWIN_GONE_OS:
        patch.delattr(os, name, raising=False)
    for name in ("SOCK_CLOEXEC", "SOCK_NONBLOCK", "AF_NETLINK", "AF_PACKET", "SO_PEERCRED"):
        patch.delattr(socket, name, raising=False)
    real_gettime, clocks = time.clock_gettime, sim.clocks
    # macOS's ids: CLOCK_REALTIME 0, CLOCK_MONOTONIC_RAW 4, CLOCK_MONOTONIC 6 (counts sleep), UPTIME_RAW 8.
    readers = {0: clocks.wall, 4: clocks.awake, 6: clocks.through_sleep, 8: clocks.awake}
    for name in _LINUX_CLOCKS:
        patch.delattr(time, name, raising=False)
    for name, value in (("CLOCK_REALTIME", 0), ("CLOCK_MONOTONIC_RAW", 4), ("CLOCK_MONOTONIC", 6)):
        patch.setattr(time, name, value, raising=False)
    patch.setattr(time, "CLOCK_UPTIME_RAW", 8, raising=False)

    def clock_gettime(clock_id: int) -> float:
        reader = readers.get(clock_id)
        if reader is None:
            return real_gettime(clock_id)
        return reader()

    patch.setattr(time, "clock_gettime", clock_gettime)
    patch.setattr(time, "monotonic", clocks.real_monotonic)  # mach_absolute_time: stops while asleep
    patch.setattr(time, "time", clocks.wall)
