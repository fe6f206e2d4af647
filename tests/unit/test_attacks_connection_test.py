"""Test connection (the settings dialog's one real heartbeat) beside an agent that does not beat: a
Stopped tray or a first run must not make the orchestrator count the miner online for 45 s. Real
loopback orchestrator, real one-agent lock of a private instance name."""

from __future__ import annotations

import os

import pytest

from polaris_tray.core.platform.instance_dir import InstanceLock
from polaris_tray.core.setup.connection_test import ConnectionTest
from tests.support.routed_orchestrator import RoutedOrchestrator

MINER = "alice-miner-01"


@pytest.fixture
def server():
    orchestrator = RoutedOrchestrator(miners={MINER})
    yield orchestrator
    orchestrator.stop()


def test_the_test_heartbeat_says_online_only_while_an_agent_beats_that_server(server, monkeypatch):
    monkeypatch.setenv("POLARIS_TRAY_INSTANCE", f"attack-conntest-{os.getpid()}")
    assert ConnectionTest(server.url, MINER, None).run().ok  # no agent at all (a first run)
    lock = InstanceLock()
    assert lock.acquire("tray")
    try:
        assert ConnectionTest(server.url, MINER, None).run().ok  # a Stopped tray
        lock.note_beating(True, "https://another.example/api/v1")
        assert ConnectionTest(server.url, MINER, None).run().ok  # a tray beating another server
        lock.note_beating(True, server.url)
        assert ConnectionTest(server.url, MINER, None).run().ok  # the tray beats this server
    finally:
        lock.release()
    assert server.statuses() == ["offline", "offline", "offline", "online"]
