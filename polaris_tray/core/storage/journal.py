"""Logging for systemd's journal: it stamps time and unit itself and reads a `<N>` priority prefix.

systemd sets JOURNAL_STREAM to the device:inode of the stream it connected; matching it against our own
stderr tells a journal from a terminal or a file a user redirected to (sd_journal_stream_fd(3)).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from typing import IO

# syslog(3) priorities by logging level.
_PRIORITIES = ((logging.CRITICAL, 2), (logging.ERROR, 3), (logging.WARNING, 4), (logging.INFO, 6))
JOURNAL_FORMAT = "[%(name)s] %(message)s"


def stderr_is_journal(environ: Mapping[str, str] | None = None, stream: IO[str] | None = None) -> bool:
    environ = os.environ if environ is None else environ
    stream = sys.stderr if stream is None else stream
    dev, _, ino = environ.get("JOURNAL_STREAM", "").partition(":")
    if not dev.isdigit() or not ino.isdigit() or stream is None:
        return False
    try:
        st = os.fstat(stream.fileno())
    except (OSError, ValueError, AttributeError):
        return False
    return st.st_dev == int(dev) and st.st_ino == int(ino)


def priority(levelno: int) -> int:
    for level, prio in _PRIORITIES:
        if levelno >= level:
            return prio
    return 7


def with_priority(text: str, levelno: int) -> str:
    """Every line gets the prefix: the journal splits a traceback into records, one per line."""
    prefix = f"<{priority(levelno)}>"
    return prefix + text.replace("\n", "\n" + prefix)
