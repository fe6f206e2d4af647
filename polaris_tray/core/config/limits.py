"""Every range and list the configuration obeys, written once: settings, dialog, command line and schedule.

Two interval ranges on purpose: a saved value must be one a shared orchestrator can live with (10 s to
1 h); a command-line override is for this run only (tests, demos, a slow link) and may go further.
"""

from __future__ import annotations

from polaris_tray.core.storage.logs import LEVELS as LOG_LEVELS

SAVED_INTERVAL_MIN_S = 10.0  # Settings file and the Settings dialog
SAVED_INTERVAL_MAX_S = 3600.0
DEFAULT_INTERVAL_S = 30.0
RUN_INTERVAL_MIN_S = 0.1  # --interval for one run; also the floor the beat schedule accepts
RUN_INTERVAL_MAX_S = 86400.0
DEFAULT_LOG_LEVEL = "INFO"

__all__ = [
    "DEFAULT_INTERVAL_S",
    "DEFAULT_LOG_LEVEL",
    "LOG_LEVELS",
    "RUN_INTERVAL_MAX_S",
    "RUN_INTERVAL_MIN_S",
    "SAVED_INTERVAL_MAX_S",
    "SAVED_INTERVAL_MIN_S",
]
