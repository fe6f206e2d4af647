"""The few facts only kernel32 can give, each call with its return type declared.

ctypes assumes every foreign function returns a C int: GetTickCount64 called that way wraps to a negative
number after 24.9 days of uptime. Nothing else in the app calls kernel32.
"""

from __future__ import annotations

import ctypes
import functools
import sys


@functools.cache
def _kernel32() -> ctypes.CDLL:  # a WinDLL; CDLL is the name typeshed gives on every OS
    if sys.platform != "win32":  # as the attribute lookup would; the check also tells the type checker
        raise OSError("kernel32 exists only on Windows")
    from ctypes import wintypes

    kernel32 = ctypes.windll.kernel32
    kernel32.GetTickCount64.restype = ctypes.c_uint64
    kernel32.GetTickCount64.argtypes = []
    kernel32.QueryUnbiasedInterruptTime.restype = wintypes.BOOL
    kernel32.QueryUnbiasedInterruptTime.argtypes = [ctypes.POINTER(ctypes.c_uint64)]
    kernel32.GetCurrentProcessId.restype = wintypes.DWORD
    kernel32.GetCurrentProcessId.argtypes = []
    kernel32.ProcessIdToSessionId.restype = wintypes.BOOL
    kernel32.ProcessIdToSessionId.argtypes = [wintypes.DWORD, ctypes.POINTER(wintypes.DWORD)]
    return kernel32


def tick_count_s() -> float:
    """Seconds since boot, counting time asleep (GetTickCount64, in ms)."""
    return float(_kernel32().GetTickCount64()) / 1000.0


def unbiased_interrupt_time_s() -> float:
    """Seconds since boot, not counting time asleep or hibernated (QueryUnbiasedInterruptTime, 100 ns)."""
    value = ctypes.c_uint64(0)
    if not _kernel32().QueryUnbiasedInterruptTime(ctypes.byref(value)):
        raise OSError("QueryUnbiasedInterruptTime failed")
    return value.value / 1e7


def session_id() -> int:
    """The Remote Desktop / fast-user-switching session this process runs in."""
    kernel32 = _kernel32()
    from ctypes import wintypes

    value = wintypes.DWORD(0)
    if not kernel32.ProcessIdToSessionId(kernel32.GetCurrentProcessId(), ctypes.byref(value)):
        raise OSError("ProcessIdToSessionId failed")
    return int(value.value)
