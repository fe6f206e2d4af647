"""Heartbeat history in a small SQLite file: what the status window charts, kept 7 days, no miner id.

One HistoryStore per thread (sqlite3 connections are thread-bound): the worker thread writes, the GUI
thread reads. WAL mode lets the reader look while the writer writes.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from polaris_tray.core.status.outcome import Outcome
from polaris_tray.core.storage import history_db
from polaris_tray.core.storage.paths import state_dir

log = logging.getLogger(__name__)

HISTORY_FILE_NAME = "history.sqlite3"
KEEP_S = history_db.KEEP_S
PRUNE_EVERY = 500  # inserts between prunes (or a tenth of the byte cap): cheap, and the file stays bounded
MAX_PENDING = 5000  # rows queued for the writer thread; beyond that the oldest are dropped
REOPEN_CHECK_S = 60.0
CLOSE_WAIT_S = 1.0
_TROUBLED: set[str] = set()  # files whose trouble is already logged (the GUI's and the worker's stores)

_SCHEMA_STATEMENTS = (
    # at: wall-clock seconds (UTC epoch); error: already redacted by the client, never the miner id
    "CREATE TABLE IF NOT EXISTS attempts "
    "(at REAL NOT NULL, outcome TEXT NOT NULL, status_code INTEGER, latency_ms REAL NOT NULL, error TEXT)",
    "CREATE INDEX IF NOT EXISTS attempts_at ON attempts(at)",
)


# Rows from a clock that ran ahead (at > now + slack) are never "recent"; newest means last written (rowid).
_RECENT = (
    "SELECT at, outcome, status_code, latency_ms, error FROM attempts WHERE at <= ? "
    "ORDER BY rowid DESC LIMIT ?"
)
_SINCE = (
    "SELECT at, outcome, status_code, latency_ms, error FROM attempts WHERE at >= ? AND at <= ? "
    "ORDER BY at DESC LIMIT ?"
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
    """readonly: the status window's view. It never writes, so it cannot contend with the worker's writes.

    The writer never blocks its caller: record() queues the row and a writer thread stores it with a short
    lock wait. A locked or full database drops rows (logged once); a file or directory that vanished is
    recreated, and a failed open retried, at most once a minute (`now` is injectable for the tests)."""

    def __init__(
        self,
        location: Path | str | None = None,
        clock: Callable[[], float] = time.time,
        readonly: bool = False,
        *,
        now: Callable[[], float] = time.monotonic,
        max_rows: int = history_db.MAX_ROWS,
        max_bytes: int = history_db.MAX_BYTES,
    ) -> None:
        self._clock, self._now = clock, now
        self.path = Path(location) if location is not None else default_history_path()
        self._readonly = readonly
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = None
        if readonly:
            self._db = history_db.open_reader(self.path)
            return
        self._max_rows, self._max_bytes = max_rows, max_bytes
        self._pending: deque[tuple] = deque(maxlen=MAX_PENDING)
        self._identity: tuple[int, int] | None = None
        self._next_check = 0.0
        self._since_prune = [0, 0]  # rows, bytes
        self._trouble: str | None = None
        self.dropped = 0
        self.problem: str | None = None
        self._wake = threading.Event()
        self._closing = False
        self._wake.set()  # the writer thread opens the file: the caller (a beat's thread) never waits on it
        self._thread = threading.Thread(target=self._run, name="history-writer", daemon=True)
        self._thread.start()

    # --- the write path
    def _run(self) -> None:
        while not self._closing:
            self._wake.wait(REOPEN_CHECK_S)
            self._wake.clear()
            self._flush()

    def _ensure_open(self) -> None:
        """Under the lock: reopens a vanished file, retries a failed open; each at most once a minute."""
        if self._now() < self._next_check:
            return
        self._next_check = self._now() + REOPEN_CHECK_S
        if self._db is not None:
            if history_db.identity(self.path) == self._identity:
                return
            log.warning("The history file vanished or was replaced; starting it again at %s", self.path)
            self._close_db()
        try:
            self._db, self._identity = history_db.open_writer(self.path, _create_schema)
            history_db.prune(self._db, self._clock(), self._max_rows, self._max_bytes)
        except (sqlite3.Error, OSError) as exc:
            self._close_db()
            self._note_trouble(f"History cannot be written: {exc}")

    def _flush(self) -> None:
        with self._lock:
            self._ensure_open()
            rows = []
            while self._pending:  # popleft is atomic: a row appended meanwhile is never lost
                rows.append(self._pending.popleft())
            if not rows:
                return
            if self._db is None:
                self.dropped += len(rows)
                return
            try:
                self._insert(rows)
            except sqlite3.Error as exc:
                self.dropped += len(rows)
                self._note_trouble(f"History rows are dropped: {exc}")
                if "locked" not in str(exc) and "busy" not in str(exc):
                    self._close_db()  # a full disk, an I/O error: reopened at the next check
                return
            if self._trouble or str(self.path) in _TROUBLED:
                log.info("History is written again (%d rows were dropped)", self.dropped)
                _TROUBLED.discard(str(self.path))
                self._trouble = self.problem = None

    def _insert(self, rows: list[tuple]) -> None:
        db = self._db
        assert db is not None  # the caller checked that the writer is open
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany("INSERT INTO attempts VALUES (?, ?, ?, ?, ?)", rows)
        except BaseException:
            history_db.rollback(db)
            raise
        db.execute("COMMIT")
        self._since_prune[0] += len(rows)
        self._since_prune[1] += sum(64 + len(r[4] or "") for r in rows)
        if self._since_prune[0] >= PRUNE_EVERY or self._since_prune[1] > self._max_bytes // 10:
            self._prune_now()

    def _prune_now(self) -> int:
        self._since_prune = [0, 0]
        db = self._db
        assert db is not None  # the caller checked that the writer is open
        db.execute("BEGIN IMMEDIATE")
        try:
            aged = history_db.prune(db, self._clock(), self._max_rows, self._max_bytes)
        except BaseException:
            history_db.rollback(db)
            raise
        db.execute("COMMIT")
        db.executescript("PRAGMA incremental_vacuum;")  # execute() would free one page per call
        return aged

    def _note_trouble(self, message: str) -> None:
        self.problem = message
        if self._trouble is None and str(self.path) not in _TROUBLED:  # once per episode and file
            log.warning("%s (further rows are dropped silently until it recovers)", message)
        _TROUBLED.add(str(self.path))
        self._trouble = message

    def _close_db(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            try:
                db.close()
            except sqlite3.Error:
                pass

    def close(self) -> None:
        if not self._readonly:
            self._closing = True
            self._wake.set()
            self._thread.join(CLOSE_WAIT_S)
            self._flush()
        with self._lock:
            self._close_db()

    def record(self, outcome: Outcome, at: float | None = None) -> None:
        """Never blocks on the database: the row is queued for the writer thread."""
        row = (
            self._clock() if at is None else at,
            outcome.kind.value,
            outcome.status_code,
            float(outcome.latency_ms),
            history_db.cap_text(outcome.error),
        )
        if len(self._pending) == MAX_PENDING:
            self.dropped += 1  # the oldest queued row goes: the writer is stuck behind a lock
        self._pending.append(row)
        self._wake.set()

    def prune(self) -> int:
        self._flush()
        with self._lock:
            return 0 if self._db is None else self._prune_now()

    # --- reading
    def _rows(self, sql: str, params: tuple) -> list[tuple]:
        """Queries see every row recorded so far; an unavailable writer's file reads as empty."""
        if not self._readonly:
            self._flush()
        with self._lock:
            if self._db is None:
                return []
            return self._db.execute(sql, params).fetchall()

    def _horizon(self) -> float:
        return self._clock() + history_db.FUTURE_SLACK_S

    def recent(self, limit: int = 50) -> list[Attempt]:
        return [Attempt(*row) for row in self._rows(_RECENT, (self._horizon(), limit))]

    def since(self, start: float, limit: int = 5000) -> list[Attempt]:
        """Oldest first; at most `limit` rows (the newest ones), so a fast interval cannot flood a chart."""
        rows = self._rows(_SINCE, (start, self._horizon(), limit))
        return [Attempt(*row) for row in reversed(rows)]

    def success_ratio(self, window_s: float) -> tuple[float | None, int]:
        """(accepted / attempts, attempts) over the window; None when there were no attempts."""
        now = self._clock()
        rows = self._rows(
            "SELECT COALESCE(SUM(outcome = 'accepted'), 0), COUNT(*) FROM attempts WHERE at >= ? AND at <= ?",
            (now - window_s, now + history_db.FUTURE_SLACK_S),
        )
        accepted, total = rows[0] if rows else (0, 0)
        return (accepted / total if total else None), total

    def count(self) -> int:
        rows = self._rows("SELECT COUNT(*) FROM attempts", ())
        return rows[0][0] if rows else 0


def _create_schema(db: sqlite3.Connection) -> None:
    # one statement at a time: executescript would commit the transaction open_writer opened
    for statement in _SCHEMA_STATEMENTS:
        db.execute(statement)
