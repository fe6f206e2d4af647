"""Heartbeat history in a small SQLite file: what the status window charts, kept 7 days, no miner id.

One HistoryStore per thread (sqlite3 connections are thread-bound): the worker thread writes, the GUI
thread reads. WAL mode lets the reader look while the writer writes.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from polaris_tray.core.status.outcome import Outcome
from polaris_tray.core.storage.paths import ensure_private_dir, state_dir

HISTORY_FILE_NAME = "history.sqlite3"
KEEP_S = 7 * 86400
PRUNE_EVERY = 500  # inserts between prunes: cheap enough, and the file stays bounded
BUSY_TIMEOUT_S = 5.0

_SCHEMA_STATEMENTS = (
    # at: wall-clock seconds (UTC epoch); error: already redacted by the client, never the miner id
    "CREATE TABLE IF NOT EXISTS attempts "
    "(at REAL NOT NULL, outcome TEXT NOT NULL, status_code INTEGER, latency_ms REAL NOT NULL, error TEXT)",
    "CREATE INDEX IF NOT EXISTS attempts_at ON attempts(at)",
)


_RECENT = "SELECT at, outcome, status_code, latency_ms, error FROM attempts ORDER BY at DESC LIMIT ?"
_SINCE = (
    "SELECT at, outcome, status_code, latency_ms, error FROM attempts WHERE at >= ? ORDER BY at DESC LIMIT ?"
)


@dataclass(frozen=True)
class Attempt:
    at: float
    outcome: str
    status_code: int | None
    latency_ms: float
    error: str | None

    @property
    def ok(self) -> bool:
        return self.outcome == "accepted"


def default_history_path() -> Path:
    return state_dir() / HISTORY_FILE_NAME


class HistoryStore:
    """readonly: the status window's view. It never writes, so it cannot contend with the worker's writes."""

    def __init__(
        self,
        location: Path | str | None = None,
        clock: Callable[[], float] = time.time,
        readonly: bool = False,
    ) -> None:
        self._clock = clock
        path = Path(location) if location is not None else default_history_path()
        if readonly:
            uri = f"{path.absolute().as_uri()}?mode=ro"  # as_uri percent-encodes spaces, ? and #
            self._db = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S)
        else:
            # Autocommit, with explicit BEGIN IMMEDIATE around writes: the write lock is taken up front, where
            # the busy timeout applies (a deferred read-then-write upgrade fails at once instead of waiting).
            ensure_private_dir(path.parent)
            if not path.exists():
                path.touch(mode=0o600)  # sqlite creates its journals with the database file's mode
            self._db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            self._set_wal()
        self._db.execute("PRAGMA cache_size=-256")  # 256 KiB: the table is small; the default is 2 MB
        if readonly:
            return
        self._db.execute("PRAGMA synchronous=NORMAL")  # with WAL: durable at checkpoints, no fsync per beat
        self._write(self._create_schema)
        self._inserts = 0
        self.prune()

    def _set_wal(self) -> None:
        """Switching the journal mode ignores the busy timeout: retry it for as long as the timeout."""
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while True:
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def _create_schema(self) -> None:
        # one statement at a time: executescript would commit the transaction _write opened
        for statement in _SCHEMA_STATEMENTS:
            self._db.execute(statement)

    def _write(self, operation):
        self._db.execute("BEGIN IMMEDIATE")
        try:
            result = operation()
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
        return result

    def close(self) -> None:
        self._db.close()

    def record(self, outcome: Outcome, at: float | None = None) -> None:
        row = (
            self._clock() if at is None else at,
            outcome.kind.value,
            outcome.status_code,
            float(outcome.latency_ms),
            outcome.error,
        )
        self._write(lambda: self._db.execute("INSERT INTO attempts VALUES (?, ?, ?, ?, ?)", row))
        self._inserts += 1
        if self._inserts % PRUNE_EVERY == 0:
            self.prune()

    def prune(self) -> int:
        cutoff = self._clock() - KEEP_S
        return self._write(lambda: self._db.execute("DELETE FROM attempts WHERE at < ?", (cutoff,)).rowcount)

    def recent(self, limit: int = 50) -> list[Attempt]:
        rows = self._db.execute(_RECENT, (limit,)).fetchall()
        return [Attempt(*row) for row in rows]

    def since(self, start: float, limit: int = 5000) -> list[Attempt]:
        """Oldest first; at most `limit` rows (the newest ones), so a fast interval cannot flood a chart."""
        rows = self._db.execute(_SINCE, (start, limit)).fetchall()
        return [Attempt(*row) for row in reversed(rows)]

    def success_ratio(self, window_s: float) -> tuple[float | None, int]:
        """(accepted / attempts, attempts) over the window; None when there were no attempts."""
        accepted, total = self._db.execute(
            "SELECT COALESCE(SUM(outcome = 'accepted'), 0), COUNT(*) FROM attempts WHERE at >= ?",
            (self._clock() - window_s,),
        ).fetchone()
        return (accepted / total if total else None), total

    def count(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM attempts").fetchone()[0]
