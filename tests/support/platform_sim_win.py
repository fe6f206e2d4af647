"""The Windows facts platform_sim hands our code: msvcrt's mandatory byte-range locks, a registry that
several processes share, and kernel32 called the way ctypes calls it.

Each fake copies one documented behaviour and nothing more:
- msvcrt.locking locks nbytes from the file position, per handle; while one handle holds a byte, reading or
  writing that byte through any other handle fails with PermissionError (EACCES), in this process or
  another. Emulated with Linux open-file-description locks (per handle, dropped on close, visible to every
  process) plus a check in os.read/os.write: Windows locks are mandatory, POSIX ones are only advisory.
- winreg: a dict persisted as JSON under the test's HOME, keys case-insensitive, missing keys and values
  raise FileNotFoundError as the real one does.
- ctypes.windll.kernel32: a function without a declared restype returns a C int, so GetTickCount64 wraps to
  a negative number after 24.9 days unless the caller declares c_uint64; out-parameters go through byref.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import json
import os
import stat
import struct
import tempfile
import time
from pathlib import Path

# --- msvcrt ---------------------------------------------------------------------------------------------
LK_UNLCK, LK_LOCK, LK_NBLCK, LK_RLCK, LK_NBRLCK = 0, 1, 2, 3, 4
_F_OFD_GETLK = getattr(fcntl, "F_OFD_GETLK", 36)
_F_OFD_SETLK = getattr(fcntl, "F_OFD_SETLK", 37)
_F_OFD_SETLKW = getattr(fcntl, "F_OFD_SETLKW", 38)
_FLOCK = "hhqqi4x"  # struct flock on 64-bit Linux: l_type, l_whence, l_start, l_len, l_pid


def _flock(kind: int, start: int, length: int) -> bytes:
    return struct.pack(_FLOCK, kind, os.SEEK_SET, start, length, 0)


def _locked_elsewhere(fd: int, start: int, length: int) -> bool:
    """Whether another handle holds a lock over [start, start+length)."""
    try:
        reply = fcntl.fcntl(fd, _F_OFD_GETLK, _flock(fcntl.F_WRLCK, start, max(1, length)))
    except OSError:
        return False  # a pipe or a socket: no byte ranges
    return struct.unpack(_FLOCK, reply)[0] != fcntl.F_UNLCK


class FakeMsvcrt:
    """The module object installed as sys.modules['msvcrt']."""

    LK_UNLCK, LK_LOCK, LK_NBLCK, LK_RLCK, LK_NBRLCK = LK_UNLCK, LK_LOCK, LK_NBLCK, LK_RLCK, LK_NBRLCK
    __name__ = "msvcrt"

    @staticmethod
    def locking(fd: int, mode: int, nbytes: int) -> None:
        start = os.lseek(fd, 0, os.SEEK_CUR)
        if mode == LK_UNLCK:
            fcntl.fcntl(fd, _F_OFD_SETLK, _flock(fcntl.F_UNLCK, start, nbytes))
            return
        wait = mode in (LK_LOCK, LK_RLCK)
        try:
            fcntl.fcntl(fd, _F_OFD_SETLKW if wait else _F_OFD_SETLK, _flock(fcntl.F_WRLCK, start, nbytes))
        except OSError:
            raise PermissionError(errno.EACCES, "Permission denied") from None

    @staticmethod
    def get_osfhandle(fd: int) -> int:
        return fd

    @staticmethod
    def setmode(fd: int, flags: int) -> int:
        return O_TEXT


O_BINARY = 0x8000  # the value Windows' CRT uses; stripped before Linux sees it
O_TEXT = 0x4000


def mandatory_io(real_read, real_write):
    """os.read/os.write that fail on a byte another handle has locked, as ReadFile/WriteFile do."""

    def read(fd: int, n: int) -> bytes:
        if _is_regular(fd) and _locked_elsewhere(fd, os.lseek(fd, 0, os.SEEK_CUR), n):
            raise PermissionError(errno.EACCES, "Permission denied")
        return real_read(fd, n)

    def write(fd: int, data) -> int:
        if _is_regular(fd) and _locked_elsewhere(fd, os.lseek(fd, 0, os.SEEK_CUR), len(data)):
            raise PermissionError(errno.EACCES, "Permission denied")
        return real_write(fd, data)

    return read, write


def _is_regular(fd: int) -> bool:
    try:
        return stat.S_ISREG(os.fstat(fd).st_mode)
    except OSError:
        return False


# --- winreg ---------------------------------------------------------------------------------------------
class FakeWinreg:
    """HKEY_CURRENT_USER as a JSON file; every call re-reads it, so processes see each other's writes."""

    __name__ = "winreg"
    HKEY_CURRENT_USER = 0x80000001
    HKEY_LOCAL_MACHINE = 0x80000002
    REG_SZ, REG_EXPAND_SZ, REG_BINARY, REG_DWORD = 1, 2, 3, 4
    KEY_READ, KEY_WRITE, KEY_SET_VALUE, KEY_QUERY_VALUE, KEY_ALL_ACCESS = 0x20019, 0x20006, 0x2, 0x1, 0xF003F

    def __init__(self, path: Path) -> None:
        self.path = path

    class HKEYType:
        def __init__(self, owner: FakeWinreg, name: str) -> None:
            self.owner, self.name = owner, name

        def __enter__(self):
            return self

        def __exit__(self, *exc) -> None:
            self.Close()

        def Close(self) -> None:
            pass

    def _load(self) -> dict:
        try:
            return json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}

    def _save(self, data: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent)
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle)
        os.replace(tmp, self.path)

    def _name(self, key, sub_key: str) -> str:
        base = key.name if isinstance(key, FakeWinreg.HKEYType) else f"hive{key:x}"
        return "\\".join(p for p in (base, sub_key.lower().strip("\\")) if p)

    def OpenKey(self, key, sub_key, reserved=0, access=0x20019):
        name = self._name(key, sub_key)
        if name not in self._load():
            raise FileNotFoundError(errno.ENOENT, "The system cannot find the file specified")
        return FakeWinreg.HKEYType(self, name)

    OpenKeyEx = OpenKey

    def CreateKey(self, key, sub_key):
        name = self._name(key, sub_key)
        data = self._load()
        data.setdefault(name, {})
        self._save(data)
        return FakeWinreg.HKEYType(self, name)

    def CreateKeyEx(self, key, sub_key, reserved=0, access=0x20006):
        return self.CreateKey(key, sub_key)

    def QueryValueEx(self, key, value_name):
        values = self._load().get(key.name, {})
        entry = values.get(value_name.lower())
        if entry is None:
            raise FileNotFoundError(errno.ENOENT, "The system cannot find the file specified")
        kind, value = entry
        return (bytes.fromhex(value) if kind == self.REG_BINARY else value), kind

    def SetValueEx(self, key, value_name, reserved, kind, value) -> None:
        data = self._load()
        stored = value.hex() if kind == self.REG_BINARY else value
        data.setdefault(key.name, {})[value_name.lower()] = [kind, stored]
        self._save(data)

    def DeleteValue(self, key, value_name) -> None:
        data = self._load()
        if value_name.lower() not in data.get(key.name, {}):
            raise FileNotFoundError(errno.ENOENT, "The system cannot find the file specified")
        del data[key.name][value_name.lower()]
        self._save(data)

    def CloseKey(self, key) -> None:
        pass


# --- kernel32 -------------------------------------------------------------------------------------------
class SimClocks:
    """The simulated machine's clocks. `boot_offset` makes the machine look up for longer than Linux has
    been; `slept` is time spent suspended, which Windows counts in GetTickCount64 and time.monotonic but
    not in QueryUnbiasedInterruptTime."""

    def __init__(self, uptime_s: float | None = None) -> None:
        self._boot = getattr(time, "CLOCK_BOOTTIME", 7)
        self._mono = getattr(time, "CLOCK_MONOTONIC", 1)
        self._real_time, self._gettime = time.time, time.clock_gettime  # before the simulation hides them
        self.boot_offset = 0.0 if uptime_s is None else uptime_s - self._gettime(self._boot)
        self.slept = 0.0

    def through_sleep(self) -> float:
        return self._gettime(self._boot) + self.boot_offset + self.slept

    def awake(self) -> float:
        return self._gettime(self._mono) + self.boot_offset

    def wall(self) -> float:
        return self._real_time() + self.slept

    def process_monotonic(self) -> float:
        """Windows' time.monotonic: counts sleep. Not offset by the simulated uptime, so other threads of
        a test process that read time.monotonic see no jump but a test's own suspend."""
        return self._gettime(self._mono) + self.slept

    def real_monotonic(self) -> float:
        return self._gettime(self._mono)


class _CFunc:
    """A foreign function as ctypes makes it: restype c_int until the caller declares another."""

    def __init__(self, compute) -> None:
        self._compute = compute
        self.restype = ctypes.c_int
        self.argtypes = None

    def __call__(self, *args):
        raw = self._compute(*args)
        if self.restype is None:
            return None
        return self.restype(raw).value


def _out(ref, value: int) -> None:
    target = getattr(ref, "_obj", ref)  # ctypes.byref(x) keeps x as _obj
    target.value = value


class FakeKernel32:
    def __init__(self, clocks: SimClocks, session_id: int) -> None:
        self.GetTickCount64 = _CFunc(lambda: int(clocks.through_sleep() * 1000))
        self.GetTickCount = _CFunc(lambda: int(clocks.through_sleep() * 1000) & 0xFFFFFFFF)
        self.GetCurrentProcessId = _CFunc(os.getpid)
        self.QueryUnbiasedInterruptTime = _CFunc(lambda ref: _out(ref, int(clocks.awake() * 1e7)) or 1)
        self.QueryInterruptTime = _CFunc(lambda ref: _out(ref, int(clocks.through_sleep() * 1e7)) or 0)
        self.ProcessIdToSessionId = _CFunc(lambda pid, ref: _out(ref, session_id) or 1)


class FakeWinDLLs:
    def __init__(self, kernel32: FakeKernel32) -> None:
        self.kernel32 = kernel32

    def __getattr__(self, name: str):
        raise OSError(errno.ENOENT, f"the simulation has no {name}.dll")
