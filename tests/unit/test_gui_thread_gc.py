"""Cyclic garbage is collected on the GUI thread only, whichever thread made it: a Qt object freed by a
collection in the heartbeat worker's thread can deadlock against the GUI thread (seen as a hung suite)."""

from __future__ import annotations

import gc
import threading

from PySide6.QtCore import QObject

from polaris_tray.gui import gui_thread_gc
from polaris_tray.gui.gui_thread_gc import due_generation


def test_the_generation_due_follows_cpythons_rule():
    thresholds = (700, 10, 10)
    assert due_generation((700, 0, 0), thresholds) is None
    assert due_generation((701, 0, 0), thresholds) == 0
    assert due_generation((701, 11, 0), thresholds) == 1
    assert due_generation((701, 11, 11), thresholds) == 2
    assert due_generation((5000, 0, 0), (0, 10, 10)) is None  # gc.set_threshold(0): collection off


def test_garbage_made_in_a_worker_thread_is_collected_on_the_gui_thread(qtbot):
    collector = gui_thread_gc.install(_app())
    assert not gc.isenabled()
    threads: list[str] = []

    def record(phase, info):
        if phase == "start":
            threads.append(threading.current_thread().name)

    def make_cycles():
        for _ in range(20_000):  # far past every threshold: the automatic collector would run here
            holder: dict = {}
            holder["self"] = holder
            holder["qt"] = QObject()

    gc.callbacks.append(record)
    try:
        worker = threading.Thread(target=make_cycles, name="heartbeat-like")
        worker.start()
        worker.join(30)
        assert not threads, f"collected on {threads}"
        collector.collect_if_due()
        assert threads and set(threads) == {threading.current_thread().name}
    finally:
        gc.callbacks.remove(record)


def _app():
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    assert app is not None
    return app
