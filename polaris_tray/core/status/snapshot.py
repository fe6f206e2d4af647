"""What the UI shows, as plain data and words: the shell renders it, the tests read it without a display."""

from __future__ import annotations

from dataclasses import dataclass

from polaris_tray.core.config.urls import server_host
from polaris_tray.core.status.state import clock_time
from polaris_tray.core.values.link_state import Colour, LinkState
from polaris_tray.core.values.outcome import Outcome
from polaris_tray.core.values.redact import mask_secret

NOTIFY_MIN_GAP_S = 60.0


@dataclass(frozen=True)
class Snapshot:
    state: LinkState
    server_url: str
    miner_id_masked: str = mask_secret(None)
    last_success_wall: float | None = None
    next_attempt_wall: float | None = None
    last_outcome: Outcome | None = None
    miner_origin: str = "none"
    miner_tag: str | None = None  # the history's tag of the id in use (never the id): whose rows to show
    uptime_hour: float | None = None  # share of the last hour the orchestrator counted online (0..1)
    words: str | None = None  # the tracker's words when this was taken (None: the state's plain words)

    @property
    def running(self) -> bool:
        return self.state not in (LinkState.STOPPED, LinkState.UNCONFIGURED)


def relative(seconds: float) -> str:
    seconds = abs(seconds)
    if seconds < 1.5:
        return "1 s" if seconds >= 0.5 else "now"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} days"


def state_words(snap: Snapshot) -> str:
    """What the state says, counted-online time included (StateTracker.words when the snapshot was taken)."""
    return snap.words or snap.state.words


def headline(snap: Snapshot) -> str:
    text = state_words(snap)
    if snap.state is LinkState.ATTENTION and snap.last_outcome and snap.last_outcome.error:
        text = f"{text}: {snap.last_outcome.error}"
    return text


def said_in(error: str | None, headline_text: str) -> bool:
    """Whether the headline already carries the error's words (it drops the error's final full stop)."""
    words = (error or "").rstrip(".").strip()
    return bool(words) and words in headline_text


def detail_lines(snap: Snapshot, now_wall: float, clock_times: bool = False) -> list[str]:
    """State, last accepted heartbeat, next attempt, server: the tooltip and the menu's status line.

    `clock_times`: "at 13:50:52" instead of "3 s ago", for a text set once and read later (the icon's
    tooltip is set per snapshot, up to a beat apart: "now" and "in 30 s" would be stale by then)."""
    lines = [headline(snap)]
    if snap.last_success_wall is not None:
        ago = now_wall - snap.last_success_wall
        if clock_times:
            lines.append(f"Last accepted: at {clock_time(snap.last_success_wall)}")
        else:
            lines.append("Last accepted: now" if ago < 0.5 else f"Last accepted: {relative(ago)} ago")
    elif snap.running:
        lines.append("Last accepted: none since this app started")  # the table may list older runs
    if snap.running and snap.next_attempt_wall is not None:
        left = snap.next_attempt_wall - now_wall
        if left < 0.5:
            lines.append("Next attempt: now")  # due or under way: a new snapshot comes when it ends
        elif clock_times:
            lines.append(f"Next attempt: at {clock_time(snap.next_attempt_wall)}")
        else:
            lines.append(f"Next attempt: in {relative(left)}")
    outcome = snap.last_outcome
    failed = outcome is not None and not outcome.ok and snap.state is not LinkState.ATTENTION
    if failed and outcome is not None and not said_in(outcome.error, lines[0]):  # red's headline may say it
        lines.append(f"Last error: {outcome.error}")
    lines.append(f"Server: {server_host(snap.server_url) or snap.server_url}")
    return lines


def uptime_line(snap: Snapshot) -> str | None:
    if snap.uptime_hour is None:
        return None
    return f"Uptime, last hour: {snap.uptime_hour * 100:.1f} % (as the orchestrator counts it)"


def tooltip(snap: Snapshot, now_wall: float) -> str:
    lines = detail_lines(snap, now_wall, clock_times=True)
    uptime = uptime_line(snap)
    if uptime:
        lines.insert(1, uptime)
    return "Polaris Tray — " + "\n".join(lines)


@dataclass
class NotificationPolicy:
    """Only meaningful transitions: to red, and back to green after an outage; at most one a minute.

    A change that comes inside the minute is deferred, not dropped: `due(now)` hands it out once the minute
    is up (the shell asks at `next_due_at()`). Only the latest change waits; a change that takes the state
    back to what the user was last told cancels it. `now` is any monotonic clock the caller injects.
    """

    enabled: bool = True
    min_gap_s: float = NOTIFY_MIN_GAP_S
    last_sent_at: float | None = None
    _was_red: bool = False
    _told_red: bool = False  # what the user was last told
    _pending: tuple[str, bool] | None = None  # (message, is red) waiting for the minute to be up

    def consider(self, current: LinkState, now: float, detail: str = "") -> str | None:
        """Called on each state change; whether red came before is the policy's own memory."""
        red, green = current.colour is Colour.RED, current is LinkState.ONLINE
        message = None
        if red and not self._was_red:
            message = f"{current.words}" + (f": {detail}" if detail else "")
        elif green and self._was_red:
            message = "Back online: the orchestrator accepts heartbeats again."
        if red:
            self._was_red = True
        elif green or current in (LinkState.STOPPED, LinkState.UNCONFIGURED):
            self._was_red = False
            if not green and self._pending is not None and not self._pending[1]:
                self._pending = None  # stopped before recovery was announced: nothing to say
        if message is None or not self.enabled:
            return None
        if red == self._told_red and self._pending is not None:
            self._pending = None  # back to what the user already knows
            return None
        self._pending = (message, red)
        return self.due(now)

    def due(self, now: float) -> str | None:
        """The waiting message, once the minute since the last one is up; else None."""
        if self._pending is None or not self.enabled:
            return None
        if self.last_sent_at is not None and now - self.last_sent_at < self.min_gap_s:
            return None
        message, self._told_red = self._pending
        self._pending = None
        self.last_sent_at = now
        return message

    def next_due_at(self) -> float | None:
        """When a deferred message may go out (None: nothing waits)."""
        if self._pending is None or self.last_sent_at is None:
            return None
        return self.last_sent_at + self.min_gap_s


def outcome_words(outcome: Outcome, miner_masked: str) -> str:
    """One attempt's result as a sentence for the settings dialog's Test connection."""
    from polaris_tray.core.values.outcome import NetworkReason, OutcomeKind

    kind = outcome.kind
    if kind is OutcomeKind.ACCEPTED:
        return f"Accepted in {outcome.latency_ms:.0f} ms"
    if kind is OutcomeKind.NOT_REGISTERED:
        return f"This server does not know miner {miner_masked} (404)"
    if kind is OutcomeKind.REJECTED:
        return f"The server rejected the heartbeat (422): {outcome.error}"
    if kind is OutcomeKind.RATE_LIMITED:
        return f"The server asks to slow down ({outcome.status_code}); try again later"
    if kind is OutcomeKind.NETWORK_ERROR:
        if outcome.reason is NetworkReason.TLS:  # not every TLS failure is the certificate's (http port)
            error = outcome.error or "TLS: the handshake failed."
            return f"Certificate problem: {error.removeprefix('TLS: ')}" if "certificate" in error else error
        if outcome.reason is NetworkReason.TIMEOUT:
            return f"Unreachable: {outcome.error}"
        return f"Unreachable: {outcome.error}"
    return outcome.error or kind.value
