"""Helpers for the end-to-end GUI tests: the app on a real X display, and waiting on what the screen shows."""

from __future__ import annotations

import signal
import time
import uuid

from tests.support.app import app_env
from tests.support.screen import tray_colour


def gui_env(home, display, **kw):
    # a private instance name per test, so tests never see each other's running app
    return app_env(
        home,
        DISPLAY=display.display,
        POLARIS_TRAY_INSTANCE=f"polaris-test-{uuid.uuid4().hex[:8]}",
        QT_QPA_PLATFORM="xcb",
        **kw,
    )


def wait_colour(display, want, timeout):
    """Polls the screen (pixels change without any signal to wait on)."""
    started = time.monotonic()
    seen = None
    while time.monotonic() - started < timeout:
        seen = tray_colour(display.display)
        if seen == want:
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"the tray icon stayed {seen!r}, wanted {want!r} within {timeout} s")


def stop(proc, timeout=5):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout)
    out, err = proc.communicate()
    return out, err
