"""The Qt heartbeat worker on its own thread, as the controller runs it, for in-process tests."""

from __future__ import annotations

import time

from PySide6.QtCore import QMetaObject, QObject, Qt, QThread, Signal

from polaris_tray.gui.worker import HeartbeatWorker


class Relay(QObject):
    """Re-emits the worker's snapshots on the test's thread."""

    snapshot = Signal(object)


def run_worker(config, clock=time.monotonic, time_scale: float = 1.0):
    """The thread (not started), the worker and a relay of its snapshots."""
    thread = QThread()
    worker = HeartbeatWorker(config, clock=clock, time_scale=time_scale)
    relay = Relay()
    worker.snapshot.connect(relay.snapshot)
    worker.moveToThread(thread)
    thread.started.connect(worker.boot)
    return thread, worker, relay


def stop_worker(thread, worker, wait_ms: int = 3000) -> None:
    """Quit as the app does: cut the request under way, then shut down on the worker's thread."""
    worker.abort()
    QMetaObject.invokeMethod(worker, "shutdown", Qt.ConnectionType.QueuedConnection)
    assert thread.wait(wait_ms)
