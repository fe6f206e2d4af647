"""Logging to the console and a rotating private file, with the miner id masked in every record."""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from polaris_tray.core.storage.journal import JOURNAL_FORMAT, stderr_is_journal, with_priority
from polaris_tray.core.storage.paths import ensure_private_dir, open_private_append
from polaris_tray.core.values.redact import redact

LOG_FILE_NAME = "polaris-tray.log"
REOPEN_CHECK_S = 60.0  # how often a vanished or failing log file is looked for again
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_FORMAT = "%(asctime)s %(levelname)s [%(name)s] %(message)s"
_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Every later log line has this value masked, whatever the code that logs it."""
    if value:
        _secrets.add(value)


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), tuple(_secrets))


class JournalFormatter(RedactingFormatter):
    def format(self, record: logging.LogRecord) -> str:
        return with_priority(super().format(record), record.levelno)


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A private log file that comes back: when the file or its directory vanishes, or a write failed (a full
    disk), it is reopened (the directory recreated 0700) at the next record, checked at most once a minute."""

    def __init__(
        self, filename: str | os.PathLike[str], *, now: Callable[[], float] = time.monotonic, **kwargs: Any
    ) -> None:
        self._now = now
        self._next_check = 0.0
        self.problem: str | None = None  # why the file is not being written, for About and diagnostics
        super().__init__(filename, delay=True, **kwargs)

    def _open(self) -> io.TextIOWrapper:
        path = Path(self.baseFilename)
        ensure_private_dir(path.parent)
        return open_private_append(path)

    def _gone(self) -> bool:
        if self.stream is None:  # not opened yet (delay=True): nothing to compare
            return True
        try:
            return not os.path.samestat(os.stat(self.baseFilename), os.fstat(self.stream.fileno()))
        except (OSError, ValueError):
            return True

    def emit(self, record: logging.LogRecord) -> None:
        if self._now() >= self._next_check:
            self._next_check = self._now() + REOPEN_CHECK_S
            if self.stream is not None and self._gone():
                self._drop_stream()
            if self.stream is None:
                try:
                    self.stream = self._open()
                    self.problem = None
                except OSError as exc:
                    self.problem = exc.strerror or str(exc)
        if self.stream is not None:
            super().emit(record)

    def handleError(self, record: logging.LogRecord) -> None:
        """A failed write (disk full, file gone) closes the file; the next check reopens it. No tracebacks."""
        exc = sys.exc_info()[1]
        self.problem = getattr(exc, "strerror", None) or str(exc)
        self._drop_stream()

    def doRollover(self) -> None:
        super().doRollover()  # with delay=True it leaves no file open: open the new one now
        if self.stream is None:
            try:
                self.stream = self._open()
            except OSError as exc:
                self.problem = exc.strerror or str(exc)

    def shouldRollover(self, record: logging.LogRecord) -> bool:
        try:
            return bool(super().shouldRollover(record))
        except OSError:
            return False

    def _drop_stream(self) -> None:
        stream, self.stream = self.stream, None
        if stream is not None:
            try:
                stream.close()
            except OSError:
                pass


def log_description(path: Path | None) -> str:
    """What About shows for the log: the file, or why there is none."""
    if path is None:
        return "console only"
    for handler in logging.getLogger().handlers:
        if isinstance(handler, PrivateRotatingFileHandler) and handler.problem:
            return f"{path} (not being written: {handler.problem})"
    return str(path)


def setup_logging(level: str = "INFO", directory: Path | None = None, console: bool = True) -> Path | None:
    """Returns the log file's path (None when only the console logs).

    When stderr is systemd's journal, console lines carry priorities and no time of our own (the journal
    stamps them). Whether a file is still kept is the caller's choice: headless keeps none there.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level if level in LEVELS else "INFO")
    formatter = RedactingFormatter(_FORMAT)
    journal = console and stderr_is_journal()
    if console:
        stream = logging.StreamHandler()
        stream.setFormatter(JournalFormatter(JOURNAL_FORMAT) if journal else formatter)
        root.addHandler(stream)
    path = None
    if directory is not None:
        # Kept even when the directory cannot be written now: the handler retries, and About says why.
        path = Path(directory) / LOG_FILE_NAME
        handler = PrivateRotatingFileHandler(path, maxBytes=1_000_000, backupCount=3, encoding="utf-8")
        handler.setFormatter(formatter)
        try:
            handler.stream = handler._open()
        except OSError as exc:
            handler.problem = exc.strerror or str(exc)
            logging.getLogger(__name__).warning("Cannot write the log file in %s: %s", directory, exc)
        root.addHandler(handler)
    for noisy in ("urllib3", "keyring", "secretstorage"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    return path
