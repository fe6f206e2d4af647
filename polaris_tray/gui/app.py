"""The tray app's entry: Qt application, single instance, Unix signals into the Qt loop."""

from __future__ import annotations

import signal
import socket
import sys
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QSocketNotifier
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from polaris_tray import APP_DISPLAY_NAME, __version__
from polaris_tray.console import EXIT_ALREADY_RUNNING, EXIT_FAILED, err
from polaris_tray.core.config.run_plan import LaunchOptions, handoff_message
from polaris_tray.gui import gui_thread_gc
from polaris_tray.gui.single_instance import SingleInstance, send_to_running

HANDOFF_RETRY_S = 3.0
DESKTOP_ID = "io.polaris.tray"
_signal_wakeup: list[object] = []  # the wake-up sockets and their notifier, kept alive while the app runs


def app_icon() -> QIcon:
    from polaris_tray.core.values.link_state import Colour
    from polaris_tray.gui.tray.icons import state_icon

    return state_icon(Colour.GREEN)


def _install_signal_wakeup(app: QApplication, on_signal: Callable[[], None]) -> None:
    """SIGINT/SIGTERM/SIGHUP end the app through the Qt loop: a wake-up fd, no polling timer."""
    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    signal.set_wakeup_fd(writer.fileno())
    for sig in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if sig is not None:
            signal.signal(sig, lambda *_: None)  # the wake-up byte is what matters
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read, app)

    def drain() -> None:
        try:
            reader.recv(64)
        except OSError:
            pass
        on_signal()

    notifier.activated.connect(drain)
    _signal_wakeup[:] = [reader, writer, notifier]


def _hand_off(message: dict[str, Any], instance: SingleInstance) -> str | None:
    """A structured message, not our argv: this launch parsed its own arguments; the instance re-checks."""
    deadline = time.monotonic() + HANDOFF_RETRY_S
    while True:
        reply = send_to_running(message, instance.lock)
        if reply is not None or time.monotonic() >= deadline:
            return reply
        time.sleep(0.1)  # the running instance holds the lock but is still starting its server


def _application() -> QApplication:
    app = QApplication.instance() or QApplication([sys.argv[0]])
    assert isinstance(app, QApplication)  # the tray needs widgets: never a bare QCoreApplication
    # Qt's StatusNotifierItem takes its Id and Title from the application name: panels list it by that.
    app.setApplicationName(APP_DISPLAY_NAME)
    app.setApplicationDisplayName(APP_DISPLAY_NAME)  # Qt appends it to window titles: they omit it
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(DESKTOP_ID)  # resources/io.polaris.tray.desktop: Wayland app_id, notifications
    app.setWindowIcon(app_icon())  # _NET_WM_ICON on every window
    app.setQuitOnLastWindowClosed(False)
    gui_thread_gc.install(app)  # never a Qt destructor on the heartbeat's thread (see that module)
    return app


def run_gui(options: LaunchOptions) -> int:
    app = _application()
    try:
        instance = SingleInstance()
        acquired = instance.acquire()
    except OSError as exc:
        err(f"cannot take the single-instance lock: {exc}")
        return EXIT_FAILED
    if not acquired:
        holder = instance.lock.holder()
        if holder.startswith("headless"):
            err(f"a headless agent already runs for this user ({holder}); one agent per user.")
            return EXIT_ALREADY_RUNNING
        reply = _hand_off(handoff_message(options.overrides), instance)
        if reply == "ok":
            err("already running; the running instance shows its status.")
            return 0
        err("another instance holds the lock but does not answer.")
        return EXIT_FAILED
    if instance.listen_error:
        err(instance.listen_error)

    from polaris_tray.gui.controller import AppController

    try:
        controller = AppController(app, options, instance)
    except Exception:
        instance.release()
        raise
    _install_signal_wakeup(app, controller.lifecycle.quit)
    controller.lifecycle.start()
    code = app.exec()
    instance.release()
    return code
