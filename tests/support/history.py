"""Scripted heartbeat histories written through the real HistoryStore, on a fake clock."""

from __future__ import annotations

from polaris_tray.core.storage.history import HistoryStore
from polaris_tray.core.values.outcome import NetworkReason, Outcome, OutcomeKind

MINER = "miner-scripted-0123456789"
OK = Outcome(OutcomeKind.ACCEPTED, 200, latency_ms=80.0)
REFUSED = Outcome(
    OutcomeKind.NETWORK_ERROR, latency_ms=1.0, error="Connection refused.", reason=NetworkReason.REFUSED
)
TLS = Outcome(
    OutcomeKind.NETWORK_ERROR, latency_ms=4.0, error="Certificate verify failed.", reason=NetworkReason.TLS
)


def scripted_session(store: HistoryStore, t0: float, every: float = 5.0, goodbye: bool = True) -> float:
    """Online 10 min, stopped 2 min, failing 1 min, online 5 min; returns the end (now).

    The stop sends the "offline" goodbye (accepted) when goodbye is True, as a healthy stop does.
    Returns once the store's writer thread has stored every row, so a reader opened next sees them all.
    """

    def beats(start: float, end: float, outcome: Outcome) -> None:
        at = start
        while at <= end + 1e-9:
            latency = 60 + (at * 7) % 50 if outcome.ok else outcome.latency_ms
            store.record(
                Outcome(outcome.kind, outcome.status_code, latency, outcome.error, outcome.reason),
                at=at,
                miner_id=MINER,
            )
            at += every

    beats(t0, t0 + 600 - every, OK)  # online 10 min
    if goodbye:
        store.record(OK, at=t0 + 600, miner_id=MINER, goodbye=True)
    beats(t0 + 720, t0 + 780 - every, REFUSED)  # stopped 600..720, then failing 1 min
    beats(t0 + 780, t0 + 1080, OK)  # online 5 min
    store.count()  # a read waits for the writer thread: every row is in the file (which it created) now
    return t0 + 1080
