"""The heartbeat worker on its own QThread, wired as the controller wires it: one harness for every test."""

import time

from PySide6.QtCore import QMetaObject, QObject, Qt, QThread, Signal

from polaris_tray.gui.worker import HeartbeatWorker


class Relay(QObject):
    """Lives on the GUI thread: the worker's signals arrive here queued, as they reach the controller."""

    snapshot = Signal(object)


def make_worker(config, clock=time.monotonic, time_scale=1.0):
    """(thread, worker), not started; worker.relay re-emits its snapshots on the GUI thread."""
    thread = QThread()
    worker = HeartbeatWorker(config, clock=clock, time_scale=time_scale)
    relay = Relay()
    worker.snapshot.connect(relay.snapshot)
    worker.relay = relay
    worker.moveToThread(thread)
    thread.started.connect(worker.boot)
    return thread, worker


def stop_worker(thread, worker) -> None:
    """As Quit does: cut the request under way, shut down in the worker's thread, join."""
    worker.abort()
    if thread.isRunning():
        QMetaObject.invokeMethod(worker, "shutdown", Qt.ConnectionType.QueuedConnection)
        assert thread.wait(3000)
