"""Happy Eyeballs (core/heartbeat/connect.py) against a name with 50 addresses that all black-hole the
connect, attempt after attempt: the sockets it opens are bounded by the deadline and the race delay, every
one of them (and the cutter's duplicates) is closed when the attempt ends, and no thread is left behind.

A black hole on loopback without root: a listener whose accept queue is full drops every further SYN, so
a connect to it hangs exactly as one to a dropped address does."""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest

from polaris_tray.core.heartbeat.connect import ConnectCancelled, connect_first
from polaris_tray.core.heartbeat.transport import DEADLINE_WATCH, SocketCutter

ADDRESSES = 50


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.fixture
def black_holes():
    """50 ports whose connects hang: each listener (backlog 0) has its queue filled first."""
    listeners, fillers, infos = [], [], []
    for _ in range(ADDRESSES):
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        for _ in range(2):  # the queue holds backlog + 1: after that, SYNs are dropped
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
            fillers.append(filler)
        listeners.append(listener)
        infos.append((socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("127.0.0.1", port)))
    time.sleep(0.2)  # let the fillers' handshakes complete (they are the queue)
    probe = socket.socket()
    probe.settimeout(0.5)
    try:
        with pytest.raises(TimeoutError):
            probe.connect(infos[0][4])
    finally:
        probe.close()
    yield infos
    for s in fillers + listeners:
        s.close()


def test_fifty_black_holed_addresses_leak_nothing_over_many_attempts(black_holes):
    DEADLINE_WATCH.register()
    try:
        cutter = SocketCutter()
        baseline_fds, baseline_threads = _open_fds(), threading.active_count()
        peaks = []
        for _ in range(8):
            cutter.begin()
            DEADLINE_WATCH.arm(cutter, 0.8)  # the deadline's cut, as a heartbeat has it
            made: list[socket.socket] = []

            def adopt(sock, made=made):
                cutter.adopt(sock)
                made.append(sock)

            with pytest.raises((TimeoutError, ConnectCancelled)):
                connect_first(black_holes, timeout=5.0, adopt=adopt, cancel=cutter)
            cutter.end()
            peaks.append(len(made))
            assert all(sock.fileno() == -1 for sock in made), "a racing socket left open"
            assert not cutter._handles, "a duplicate left open"
        # Other tests' threads may close descriptors meanwhile: never more than before.
        assert _open_fds() <= baseline_fds, "sockets or duplicates left open"
        assert threading.active_count() <= baseline_threads
        # 0.8 s at one new connect per 0.25 s: at most 4 sockets started (5 with scheduling slack).
        assert max(peaks) <= 5, peaks
    finally:
        DEADLINE_WATCH.unregister()
