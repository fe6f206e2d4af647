"""What "Send heartbeat now" will do, in words, when it cannot go at once: a click must never look ignored.

The BeatCycle sends a manual beat at once while healthy, but never before a backoff window or a server's
Retry-After; while such a wait runs the snapshot's next attempt is that window's end.
"""

from __future__ import annotations

import time

from polaris_tray.core.status.snapshot import Snapshot

AT_ONCE_S = 2.5  # within this a manual beat counts as "at once" (the 2 s floor between manual beats)


def send_now_words(snap: Snapshot | None, now_wall: float) -> str | None:
    """None when Send now goes at once; else when it will go and why."""
    if snap is None or not snap.running or snap.next_attempt_wall is None:
        return None
    failed = snap.last_outcome is not None and not snap.last_outcome.ok
    if not failed or snap.next_attempt_wall - now_wall < AT_ONCE_S:
        return None
    at = time.strftime("%H:%M:%S", time.localtime(snap.next_attempt_wall))
    return f"Sending at {at} — waiting for the retry window"
