"""What the log says about the link, for headless and the tray alike: a line when the state changes, and a
line when a failure's reason is new.

Why the second line: the 45 s clock can turn the state to "retrying" a moment before the attempt under way
fails. Logging only state changes then never said why the beats failed (a timeout, a refused certificate),
and a server admin reading the journal had to turn on DEBUG to learn it. A reason is written once, not with
every retry, and again only after a beat was accepted or the reason changed.
"""

from __future__ import annotations

from polaris_tray.core.status.snapshot import said_in
from polaris_tray.core.values.link_state import LinkState
from polaris_tray.core.values.outcome import Outcome

WHY_STATES = frozenset({LinkState.RETRYING, LinkState.OFFLINE, LinkState.ATTENTION})  # lines add the error


class StateLog:
    """One per shell. Not locked: each caller already notes the state from one thread or under its lock."""

    def __init__(self) -> None:
        self._state: LinkState | None = None
        self._told: str | None = None  # the failure reason the log last carried

    def lines(self, state: LinkState, words: str, outcome: Outcome | None) -> list[str]:
        """The lines to log now (none when nothing new): `words` is what the state says at this moment."""
        error = outcome.error if outcome is not None and not outcome.ok and outcome.error else None
        why = error if error and state in WHY_STATES and not said_in(error, words) else None
        out: list[str] = []
        if state is not self._state:
            start = self._state.value if self._state else "start"
            out.append(f"State {start} -> {state.value} ({words})" + (f": {why}" if why else ""))
            self._state = state
        elif why and why != self._told:
            out.append(f"Heartbeat not delivered ({words}): {why}")
        if error is None or why or said_in(error, words):
            self._told = error
        return out
