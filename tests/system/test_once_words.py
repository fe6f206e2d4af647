"""A failed --once says one human sentence on stderr; stdout keeps its one JSON line."""

from __future__ import annotations

import json

from tests.support.app import app_env, run_app
from tests.support.loopback import refused_url
from tests.support.routed_orchestrator import RoutedOrchestrator

MINER = "alice-miner-01"


def once(home, url, miner=MINER):
    result = run_app(["--once", "--server-url", url], app_env(home, miner_id=miner))
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout  # stdout: the JSON line, and nothing else
    assert miner not in result.stdout + result.stderr
    said = [line for line in result.stderr.splitlines() if "the heartbeat was not accepted" in line]
    return result.returncode, json.loads(lines[0]), said


def test_a_refused_once_adds_one_sentence_on_stderr(home):
    code, line, said = once(home, refused_url())
    assert code == 1 and line["ok"] is False
    assert len(said) == 1, said
    assert said[0].startswith("polaris-tray: the heartbeat was not accepted: ") and "refused" in said[0]
    assert said[0].endswith("`polaris-tray --doctor` checks each link.")


def test_an_unregistered_miner_and_a_wrong_url_say_which_on_stderr(home):
    server = RoutedOrchestrator(miners={MINER})
    try:
        _code, _line, unknown = once(home, server.url, miner="bob-unknown-77")
        _code, _line, wrong = once(home, server.url.removesuffix("/v1"))
        code, line, accepted = once(home, server.url)
    finally:
        server.stop()
    assert len(unknown) == 1 and "polaris register" in unknown[0]
    assert len(wrong) == 1 and "/api/v1" in wrong[0]
    assert code == 0 and line["ok"] is True and accepted == []  # success stays quiet
