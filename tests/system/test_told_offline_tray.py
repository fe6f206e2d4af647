"""The tray, Stopped after a goodbye that failed, then Settings → Test connection or the status window's
Diagnose: either says "offline" (nothing beats), the orchestrator accepts it and counts the miner offline at
once, and the tray stops saying "still counted online for N s". The real controller, worker thread and
dialogs (pytest-qt), a real loopback orchestrator, a private instance name."""

import uuid

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from polaris_tray.core.values.link_state import LinkState
from tests.support.orchestrator import Reply
from tests.system.test_settings_dialog import MINER, _controller, _wait_state


@pytest.fixture
def stopped(qtbot, home, orchestrator, monkeypatch):
    """A tray Stopped after its goodbye failed: true, it says "still counted online" (the server waits)."""
    monkeypatch.setenv("POLARIS_MINER_ID", MINER)
    monkeypatch.setenv("POLARIS_TRAY_INSTANCE", f"polaris-test-{uuid.uuid4().hex[:8]}")
    controller = _controller(qtbot, orchestrator.url, interval="10")
    try:
        _wait_state(qtbot, controller, lambda s: s.state is LinkState.ONLINE)
        orchestrator.switch(Reply(503))
        controller.request_stop()
        _wait_state(qtbot, controller, lambda s: s.words is not None and "still counted online" in s.words)
        assert [b["status"] for b in orchestrator.bodies()] == ["online", "offline"]  # the goodbye failed
        orchestrator.switch(Reply())
        yield controller
    finally:
        controller.lifecycle.quit()


def test_a_stopped_trays_test_connection_said_offline_ends_its_count(qtbot, orchestrator, stopped):
    stopped.windows.open_settings()
    dialog = stopped.windows.settings_dialog
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.test_result.property("outcome") == "accepted", timeout=5000)
    assert orchestrator.bodies()[-1]["status"] == "offline"  # a Stopped tray's test never says online
    _wait_state(qtbot, stopped, lambda s: s.words == LinkState.STOPPED.words)  # before: 40-odd s more
    assert stopped.snapshot.state is LinkState.STOPPED
    dialog.close()


def test_a_stopped_trays_diagnose_said_offline_ends_its_count(qtbot, orchestrator, stopped):
    """Before, Diagnose's accepted "offline" left the tray saying "still counted online" for the 45 s."""
    stopped.windows.open_status()
    window = stopped.windows.status_window
    qtbot.mouseClick(window.diagnose_button, Qt.MouseButton.LeftButton)
    doctor = window.findChild(QDialog, "doctorDialog")
    qtbot.waitUntil(doctor.again_button.isEnabled, timeout=20000)  # the walk is done
    assert "status 'offline'" in doctor.report_text(), doctor.report_text()
    assert orchestrator.bodies()[-1]["status"] == "offline"
    _wait_state(qtbot, stopped, lambda s: s.words == LinkState.STOPPED.words)  # before: 40-odd s more
    assert "still counted online" not in window.headline.text()
    doctor.close()
