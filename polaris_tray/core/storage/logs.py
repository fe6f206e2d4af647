"""Logging to the console and a rotating private file, with the miner id masked in every record."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from polaris_tray.core.storage.journal import JOURNAL_FORMAT, stderr_is_journal, with_priority
from polaris_tray.core.storage.paths import ensure_private_dir, open_private_append
from polaris_tray.core.storage.redact import redact

LOG_FILE_NAME = "polaris-tray.log"
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
    def _open(self):
        return open_private_append(Path(self.baseFilename))


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
        try:
            ensure_private_dir(directory)
            path = Path(directory) / LOG_FILE_NAME
            handler = PrivateRotatingFileHandler(path, maxBytes=1_000_000, backupCount=3, encoding="utf-8")
            handler.setFormatter(formatter)
            root.addHandler(handler)
        except OSError as exc:
            logging.getLogger(__name__).warning("Cannot write the log file in %s: %s", directory, exc)
            path = None
    for noisy in ("urllib3", "keyring", "secretstorage"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    return path
