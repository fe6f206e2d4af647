"""The status window's Diagnose button: the doctor's lines in a dialog, copyable, and the
one beat it sends says what this tray is doing (online while beating, offline when stopped)."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QGuiApplication

from polaris_tray.core.status.snapshot import Snapshot
from polaris_tray.core.values.link_state import LinkState
from tests.support.mnemonics import labels, mnemonic
from tests.support.routed_orchestrator import RoutedOrchestrator

MINER = "alice-miner-01"


@pytest.fixture
def server(home, monkeypatch):
    monkeypatch.setenv("POLARIS_MINER_ID", MINER)
    orchestrator = RoutedOrchestrator(miners={MINER})
    yield orchestrator
    orchestrator.stop()


def diagnose(qtbot, snap):
    from polaris_tray.gui.status.window import StatusWindow

    window = StatusWindow(None, diagnostics=lambda: "text")
    qtbot.addWidget(window)
    window.show_snapshot(snap)
    window.show()
    marks = [mnemonic(t) for t in labels(window) if mnemonic(t)]
    assert len(marks) == len(set(marks)), marks  # the new button takes a letter no other one has
    dialog = window.diagnose()
    qtbot.waitUntil(dialog.again_button.isEnabled, timeout=30000)
    return window, dialog


@pytest.mark.parametrize(("state", "sent"), [(LinkState.ONLINE, "online"), (LinkState.STOPPED, "offline")])
def test_diagnose_shows_each_link_and_sends_the_status_this_tray_has(qtbot, server, state, sent):
    _window, dialog = diagnose(qtbot, Snapshot(state, server.url, "alic…"))
    text = dialog.text.toPlainText()
    for name in ("Configuration", "Miner id", "DNS", "Proxy", "TCP", "HTTP", "Orchestrator", "Clock"):
        assert f"{name}:" in text, text
    assert f"status '{sent}'" in text and MINER not in text
    assert server.statuses() == [sent]
    copied = dialog.copy()
    assert QGuiApplication.clipboard().text() == copied and copied.startswith("✔ Configuration:")
    assert dialog.verdict.text() in copied
    marks = [mnemonic(t) for t in labels(dialog) if mnemonic(t)]
    assert len(marks) == len(set(marks)), marks
    marks = [mnemonic(t) for t in labels(dialog) if mnemonic(t)]
    assert len(marks) == len(set(marks)), marks


def test_diagnose_names_a_wrong_url_in_the_window(qtbot, server):
    _window, dialog = diagnose(qtbot, Snapshot(LinkState.ATTENTION, server.url.removesuffix("/v1"), "alic…"))
    assert "✘ HTTP:" in dialog.text.toPlainText() and "should end in /api/v1" in dialog.text.toPlainText()
    assert dialog.verdict.text() == "Broken: HTTP."
    assert server.posts == []


def test_diagnose_is_off_in_demo_mode(qtbot):
    from polaris_tray.gui.status.window import StatusWindow

    window = StatusWindow(None, diagnostics=lambda: "text", demo=True)
    qtbot.addWidget(window)
    assert not window.diagnose_button.isEnabled()


@pytest.mark.parametrize("scale", ["1", "2"])
def test_the_doctor_renders_unclipped_at_100_and_200_percent(home, scale):
    import json

    from tests.support.app import ARTIFACTS, run_support_script

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    out = ARTIFACTS / f"doctor-{int(scale) * 100}pct.png"
    env = {
        "QT_SCALE_FACTOR": scale,
        "QT_QPA_PLATFORM": "offscreen",
        "POLARIS_MINER_ID": "carol-unknown-5",
        "POLARIS_TRAY_INSTANCE": f"doctor-render-{scale}",
    }
    said = run_support_script("render_doctor.py", str(out), env=env, timeout=90)
    shown = json.loads(said.strip().splitlines()[-1])
    assert float(shown["dpr"]) == float(scale)
    assert shown["width"] >= 700 * float(scale) and shown["height"] >= 400 * float(scale)
    assert not shown["hidden"] and not shown["horizontal"], shown["text"]  # every line in view, none cut
    assert "✘ Orchestrator:" in shown["text"] and shown["summary"] == "Broken: Orchestrator."
    assert "carol-unknown-5" not in shown["text"]
    assert out.exists() and out.stat().st_size > 5000


def test_after_quit_cuts_the_calls_a_walk_under_way_reaches_the_window_no_more(
    qtbot, home, monkeypatch, orchestrator
):
    """Quit drops a Diagnose walk waiting on a hanging server: what the walk finds after it (here the POST
    cut when the server goes) never reaches the window. Before, the walk ran on a thread of its own that
    Quit knew nothing of, and kept signalling into an app on its way out."""
    import threading

    from polaris_tray.gui.beat.background_call import BackgroundCall
    from polaris_tray.gui.settings.doctor_dialog import DoctorDialog
    from tests.support.orchestrator import Hang

    monkeypatch.setenv("POLARIS_MINER_ID", MINER)
    orchestrator.behaviour = Hang()
    dialog = DoctorDialog(orchestrator.url, beating=False)
    qtbot.addWidget(dialog)
    walks = [t for t in threading.enumerate() if t.name in ("doctor", "background-call")]
    assert len(walks) == 1, walks
    assert orchestrator.wait_for(1, timeout=15)  # the walk is waiting on the POST
    qtbot.waitUntil(lambda: "TCP:" in dialog.text.toPlainText(), timeout=5000)
    BackgroundCall.cancel_all(0.5)  # Quit's step
    shown = dialog.text.toPlainText()
    orchestrator.stop()  # the POST is cut: the walk goes on to its last lines and ends
    walks[0].join(20)
    assert not walks[0].is_alive()
    QGuiApplication.processEvents()  # anything it queued is delivered now
    assert dialog.text.toPlainText() == shown
    assert not dialog.again_button.isEnabled()  # no verdict arrived either
