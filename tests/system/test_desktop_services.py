"""The app with the session's services: a notification server, and logind telling it the machine woke.

All real D-Bus services on private buses (tests/support/dbus_services.py); the app is the real process.
"""

import time

import pytest

from tests.support.app import start_app
from tests.support.dbus_bus import PrivateBus
from tests.support.dbus_services import FakeLogind, NotificationServer
from tests.support.gui import gui_env, stop
from tests.support.orchestrator import Reply
from tests.support.screen import COLOURS
from tests.support.sni_host import SniWatcher, nearest

pytestmark = pytest.mark.gui

SHORT_MINUTE_S = 8.0  # the notification gap for the suite (60 s in use), with slack for a loaded machine


def wait_until_green(watcher, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while nearest(watcher.item().pixmap_rgb(), COLOURS) != "green":
        assert time.monotonic() < deadline, "no recovery to green"
        time.sleep(0.05)


def test_red_is_told_by_the_notification_server_and_the_icon_stays_ours(
    home, session_bus, bare_display, orchestrator
):
    watcher = SniWatcher(session_bus.address).start()
    server = NotificationServer(session_bus.address).start()
    env = gui_env(
        home,
        bare_display,
        DBUS_SESSION_BUS_ADDRESS=session_bus.address,
        POLARIS_TRAY_TEST_NOTIFY_GAP_S=str(SHORT_MINUTE_S),
    )
    orchestrator.behaviour = Reply(404, {"detail": "Miner not found"})
    proc = start_app(["--server-url", orchestrator.url, "--interval", "0.5"], env)
    try:
        watcher.wait_item(10)
        (told,) = server.wait_for(1, timeout=10)
        assert told["app"] == "Polaris Tray" and told["summary"] == "Polaris Tray"
        assert "Needs attention" in told["body"]
        assert told["hints"]["desktop-entry"] == "io.polaris.tray"
        item = watcher.item()
        for _ in range(10):  # Qt's showMessage would hold NeedsAttention for 10 s: look for 1 s
            assert item.prop("Status") == "Active"
            assert nearest(item.pixmap_rgb(), COLOURS) == "red"
            time.sleep(0.1)
        orchestrator.behaviour = Reply(200)  # recovery inside the (short) minute: deferred, not dropped
        item.click(item.menu_labels()["Send heartbeat now"])  # not waiting out the backoff
        wait_until_green(watcher, 5)
        recovered_at = time.monotonic()
        assert recovered_at - told["at"] < SHORT_MINUTE_S - 0.5, "recovered too late to test the deferral"
        time.sleep(0.3)
        assert len(server.received) == 1  # not yet: the minute is not up
        _, back = server.wait_for(2, timeout=SHORT_MINUTE_S + 2)
        assert back["body"].startswith("Back online")
        print(f"recovery told {back['at'] - recovered_at:.2f} s after it happened (gap {SHORT_MINUTE_S} s)")
        assert back["at"] - told["at"] >= SHORT_MINUTE_S - 0.1
    finally:
        watcher.stop()
        server.stop()
        _, err = stop(proc)
    assert proc.returncode == 0, err[-2000:]
    assert err.count("Notified over D-Bus") == 2


def test_logind_waking_the_machine_sends_a_beat_at_once(home, session_bus, bare_display, orchestrator):
    system_bus = PrivateBus().start()
    logind = FakeLogind(system_bus.address).start()
    env = gui_env(
        home,
        bare_display,
        DBUS_SESSION_BUS_ADDRESS=session_bus.address,
        DBUS_SYSTEM_BUS_ADDRESS=system_bus.address,
    )
    proc = start_app(["--server-url", orchestrator.url, "--interval", "30"], env)
    try:
        assert orchestrator.wait_for(1, timeout=10)
        time.sleep(1)  # the first beat went out at start; the next is 30 s away
        logind.prepare_for_sleep(True)
        time.sleep(0.2)
        woke_at = time.monotonic()
        logind.prepare_for_sleep(False)
        assert orchestrator.wait_for(2, timeout=2), "no heartbeat within 2 s of the resume"
        print(f"logind resume to beat: {orchestrator.times()[1] - woke_at:.3f} s")
    finally:
        _, err = stop(proc)
        logind.stop()
        system_bus.stop()
    assert proc.returncode == 0, err[-2000:]
    assert "seen by logind" in err
