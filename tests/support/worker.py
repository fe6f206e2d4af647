"""The Qt heartbeat worker in its own thread, as the controller runs it, for in-process tests."""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, QThread, Signal, Slot

from polaris_tray.core.heartbeat.runner import Attempted, MinerId, Published, Quit
from polaris_tray.gui.beat.worker import HeartbeatWorker, WorkerConfig

MINER = "miner-abcdef123456"
TEST_MINER = MinerId(MINER, "test")


class Relay(QObject):
    """Lives on the GUI thread: the worker's one signal arrives here queued, as it reaches the controller,
    split into what the tests wait for."""

    snapshot = Signal(object)
    outcome = Signal(object)  # the attempts' outcomes (not the goodbye)

    @Slot(object)
    def route(self, event: object) -> None:
        if isinstance(event, Published):
            self.snapshot.emit(event.snapshot)
        elif isinstance(event, Attempted) and not event.goodbye:
            self.outcome.emit(event.outcome)


def make_worker(
    config: WorkerConfig,
    miner: MinerId | None = TEST_MINER,
    *,
    clock=time.monotonic,
    time_scale: float = 1.0,
    look_up_id: bool = False,
) -> tuple[QThread, HeartbeatWorker, Relay]:
    """Not started: the caller starts the thread (inside a waitSignal, to see the first snapshot)."""
    thread = QThread()
    worker = HeartbeatWorker(config, miner, look_up_id=look_up_id, clock=clock, time_scale=time_scale)
    relay = Relay()
    worker.beat_event.connect(relay.route)
    worker.moveToThread(thread)
    thread.started.connect(worker.boot)
    worker.relay = relay
    return thread, worker, relay


def stop_worker(thread: QThread, worker: HeartbeatWorker, budget_ms: int = 3000) -> bool:
    if not thread.isRunning():
        return True
    worker.submit(Quit())
    return thread.wait(budget_ms)


def start_controller(url: str, interval: str = "0.2", *extra: str):
    """The whole tray app's controller in this process (no tray shown: the tests drive it directly)."""
    from PySide6.QtWidgets import QApplication

    from polaris_tray.cli.args import build_parser, launch_options
    from polaris_tray.gui.controller import AppController
    from polaris_tray.gui.single_instance import SingleInstance

    args = build_parser().parse_args(["--server-url", url, "--interval", interval, *extra])
    controller = AppController(QApplication.instance(), launch_options(args), SingleInstance())
    controller.worker_thread.start()
    return controller
