"""Every range the configuration obeys, written once: settings, dialog, command line and schedule.

Two interval ranges on purpose. A saved value (settings file, Settings dialog) must keep the miner counted
online: the orchestrator counts it for 45 s after each accepted beat, a beat may take up to the 10 s
request deadline, and a failed one is retried after up to 5 s (the first backoff), so

    45 s window - 10 s request deadline - 5 s first retry = 30 s, the longest saved interval;

the shortest, 10 s, is what a shared orchestrator can live with. A saved value outside the range is used
clamped, with a log line. A command-line override is for this run only (tests, demos, a slow link) and
may go further: above 30 s the state turns amber and red by the clock between beats, and stderr says so.
The two facts those ranges come from (the 45 s and the request deadline) live here too, for the state, the
beat and the views.
"""

from __future__ import annotations

SAVED_INTERVAL_MIN_S = 10.0  # Settings file and the Settings dialog
OFFLINE_AFTER_S = 45.0  # the orchestrator marks a miner offline 45 s after its last accepted beat
REQUEST_DEADLINE_S = 10.0  # one attempt's bound: a beat not accepted by last + interval + this is overdue
FIRST_RETRY_S = 5.0  # the longest first backoff: the schedule's first retry waits at most this
SAVED_INTERVAL_MAX_S = OFFLINE_AFTER_S - REQUEST_DEADLINE_S - FIRST_RETRY_S  # 30 s
DEFAULT_INTERVAL_S = 30.0
RUN_INTERVAL_MIN_S = 0.1  # --interval for one run; also the floor the beat schedule accepts
RUN_INTERVAL_MAX_S = 86400.0
DEFAULT_LOG_LEVEL = "INFO"

__all__ = [
    "DEFAULT_INTERVAL_S",
    "DEFAULT_LOG_LEVEL",
    "FIRST_RETRY_S",
    "OFFLINE_AFTER_S",
    "REQUEST_DEADLINE_S",
    "RUN_INTERVAL_MAX_S",
    "RUN_INTERVAL_MIN_S",
    "SAVED_INTERVAL_MAX_S",
    "SAVED_INTERVAL_MIN_S",
]
