"""Test connection: one real heartbeat from the settings dialog, which Quit can cancel whenever it comes.

Apart from the form model so each stays one job; the dialog runs it on a background call.
"""

from __future__ import annotations

from dataclasses import dataclass

from polaris_tray.core.config.miner_id import resolve_miner_id
from polaris_tray.core.config.secret_store import SecretStore
from polaris_tray.core.config.urls import InvalidServerUrl, normalize_server_url
from polaris_tray.core.heartbeat.runner import ToldOffline
from polaris_tray.core.heartbeat.sender import TestBeat
from polaris_tray.core.status.snapshot import outcome_words
from polaris_tray.core.values.redact import mask_secret


@dataclass(frozen=True)
class TestResult:
    text: str
    ok: bool
    kind: str  # the outcome kind, or "no_miner_id" / "error"
    told: ToldOffline | None = None  # an accepted "offline": for the tray's runner, whose count it ends


class ConnectionTest:
    """run() blocks (any thread); cancel() from another thread cuts it, before or during the request."""

    def __init__(self, url_text: str, typed: str, secrets: SecretStore) -> None:
        self._typed = typed.strip()
        self._secrets = secrets
        try:  # pure: checked here, so a cancel can reach the probe before run() starts
            self._test_beat: TestBeat | None = TestBeat(normalize_server_url(url_text))
            self._url_problem = ""
        except InvalidServerUrl as exc:
            self._test_beat, self._url_problem = None, str(exc)

    def run(self) -> TestResult:
        """One real heartbeat with the typed id, else the one the agent would use."""
        if self._test_beat is None:
            return TestResult(self._url_problem, False, "error")
        miner_id = self._typed or resolve_miner_id(self._secrets).miner_id
        if not miner_id:
            return TestResult("No miner id to test with: enter one above.", False, "no_miner_id")
        status = _true_status(miner_id, self._test_beat.server_url)
        outcome = self._test_beat.attempt(miner_id, status)
        told = (
            ToldOffline(self._test_beat.server_url, miner_id, outcome)
            if outcome.ok and status == "offline"
            else None
        )
        return TestResult(outcome_words(outcome, mask_secret(miner_id)), outcome.ok, outcome.kind.value, told)

    def cancel(self) -> None:
        if self._test_beat is not None:
            self._test_beat.cancel()


def _true_status(miner_id: str, server_url: str) -> str:
    """The test's heartbeat must not tell the orchestrator "online" while nothing beats this server (a
    Stopped tray, a first run): it would count the miner online for 45 s. The one-agent lock tells, as
    for --doctor (core/doctor/verdict.py)."""
    from polaris_tray.core.doctor.verdict import agent_state

    try:
        return "online" if agent_state(miner_id, server_url=server_url).running else "offline"
    except OSError:
        return "offline"
