"""The tray app's entry: Qt application, single instance, Unix signals into the Qt loop."""

from __future__ import annotations

import signal
import socket
import sys
import time

from PySide6.QtCore import QSocketNotifier
from PySide6.QtWidgets import QApplication

from polaris_tray import APP_DISPLAY_NAME, APP_NAME, __version__
from polaris_tray.console import err
from polaris_tray.core.config.run_plan import QUIT_MESSAGE, LaunchOptions, handoff_message
from polaris_tray.gui.single_instance import SingleInstance, send_to_running

HANDOFF_RETRY_S = 3.0


def _install_signal_wakeup(app: QApplication, on_signal) -> None:
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
    app._polaris_signal_socket = (reader, writer, notifier)  # kept alive with the app


def _hand_off(message: dict) -> str | None:
    """A structured message, not our argv: this launch parsed its own arguments; the instance re-checks."""
    deadline = time.monotonic() + HANDOFF_RETRY_S
    while True:
        reply = send_to_running(message)
        if reply is not None or time.monotonic() >= deadline:
            return reply
        time.sleep(0.1)  # the running instance holds the lock but is still starting its server


def _application() -> QApplication:
    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_DISPLAY_NAME)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(APP_NAME)
    app.setQuitOnLastWindowClosed(False)
    return app


def quit_running() -> int:
    """--quit: ask the running instance to quit."""
    _application()
    instance = SingleInstance()
    if instance.acquire():
        instance.release()
        err("no running instance to quit.")
        return 1
    reply = _hand_off(QUIT_MESSAGE)
    return 0 if reply == "ok" else 1


def run_gui(options: LaunchOptions) -> int:
    app = _application()
    instance = SingleInstance()
    if not instance.acquire():
        reply = _hand_off(handoff_message(options.overrides))
        if reply == "ok":
            err("already running; the running instance shows its status.")
            return 0
        err("another instance holds the lock but does not answer.")
        return 1

    from polaris_tray.gui.controller import AppController

    try:
        controller = AppController(app, options, instance)
    except Exception:
        instance.release()
        raise
    _install_signal_wakeup(app, controller.quit)
    controller.start()
    code = app.exec()
    instance.release()
    return code
