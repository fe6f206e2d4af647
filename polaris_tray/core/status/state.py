"""What the orchestrator most likely thinks of us, derived from outcomes and time: the tray's colour."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from polaris_tray.core.status.outcome import Outcome

OFFLINE_AFTER_S = 45.0  # the orchestrator marks a miner offline after 45 s without a heartbeat


class Colour(str, enum.Enum):
    GREY = "grey"
    GREEN = "green"
    AMBER = "amber"
    RED = "red"


class LinkState(str, enum.Enum):
    STOPPED = "stopped"
    UNCONFIGURED = "unconfigured"
    KEYRING_WAIT = "keyring_wait"  # the id may be in a keyring that is locked or not up yet
    CONNECTING = "connecting"
    ONLINE = "online"
    RETRYING = "retrying"
    OFFLINE = "offline"
    ATTENTION = "attention"

    @property
    def colour(self) -> Colour:
        return _COLOURS[self]

    @property
    def words(self) -> str:
        return _WORDS[self]


_COLOURS = {
    LinkState.STOPPED: Colour.GREY,
    LinkState.UNCONFIGURED: Colour.GREY,
    LinkState.KEYRING_WAIT: Colour.GREY,
    LinkState.CONNECTING: Colour.GREY,
    LinkState.ONLINE: Colour.GREEN,
    LinkState.RETRYING: Colour.AMBER,
    LinkState.OFFLINE: Colour.RED,
    LinkState.ATTENTION: Colour.RED,
}
_WORDS = {
    LinkState.STOPPED: "Stopped",
    LinkState.UNCONFIGURED: "Not configured: no miner id",
    LinkState.KEYRING_WAIT: "Keyring locked — waiting",
    LinkState.CONNECTING: "Connecting…",
    LinkState.ONLINE: "Online",
    LinkState.RETRYING: "Retrying (still counted online)",
    LinkState.OFFLINE: "Offline: heartbeats failing for 45 s or more",
    LinkState.ATTENTION: "Needs attention",
}


@dataclass
class StateTracker:
    """Fed every outcome with the monotonic time it completed; asked for the state at any time."""

    running: bool = False
    configured: bool = True
    keyring_waiting: bool = False  # no id yet because the keyring cannot answer (locked, absent, slow)
    last_outcome: Outcome | None = None
    last_success_at: float | None = None
    failing_since: float | None = None
    started_at: float | None = None

    def start(self, now: float) -> None:
        self.running = True
        self.started_at = now
        self.last_outcome = None
        self.failing_since = None

    def stop(self) -> None:
        self.running = False

    def record(self, outcome: Outcome, at: float) -> None:
        self.last_outcome = outcome
        if outcome.ok:
            self.last_success_at = at
            self.failing_since = None
        elif self.failing_since is None:
            self.failing_since = at

    def _offline_reference(self) -> float | None:
        """The moment from which the orchestrator's 45 s count runs."""
        if self.last_success_at is not None and (
            self.failing_since is None or self.last_success_at <= self.failing_since
        ):
            return self.last_success_at
        return self.failing_since

    def state(self, now: float) -> LinkState:
        if not self.configured:
            return LinkState.KEYRING_WAIT if self.keyring_waiting else LinkState.UNCONFIGURED
        if not self.running:
            return LinkState.STOPPED
        outcome = self.last_outcome
        if outcome is None:
            return LinkState.CONNECTING
        if outcome.ok:
            return LinkState.ONLINE
        if outcome.needs_attention:
            return LinkState.ATTENTION
        reference = self._offline_reference()
        if reference is not None and now - reference >= OFFLINE_AFTER_S:
            return LinkState.OFFLINE
        return LinkState.RETRYING

    def next_change_at(self, now: float) -> float | None:
        """When the state would turn by time alone (amber to red), so a UI can re-check exactly then."""
        if self.state(now) is LinkState.RETRYING:
            reference = self._offline_reference()
            if reference is not None:
                return reference + OFFLINE_AFTER_S
        return None
