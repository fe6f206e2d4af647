"""The agent's connection states and the colour each shows: what every view and log line names."""

from __future__ import annotations

import enum


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
        """The state's words without the clock (a notification, a stand-in); views use StateTracker.words."""
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
    LinkState.RETRYING: "Retrying — still counted online",
    LinkState.OFFLINE: "Offline — not counted online",
    LinkState.ATTENTION: "Needs attention",
}
