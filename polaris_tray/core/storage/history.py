"""Heartbeat history in a small SQLite file: what the status window charts, kept 7 days, no miner id
(rows carry a keyed tag of it: see history_schema.py).

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
from pathlib import Path
from typing import Any

from polaris_tray.core.storage import history_db
from polaris_tray.core.storage.history_schema import (
    BEATS,
    INSERT,
    RATIO,
    RECENT,
    SINCE,
    Attempt,
    attempt_from_row,
    create_schema,
    miner_tag,
    read_salt,
)
from polaris_tray.core.storage.paths import state_dir
from polaris_tray.core.values.outcome import Outcome, OutcomeKind

log = logging.getLogger(__name__)

HISTORY_FILE_NAME = "history.sqlite3"
# (at, outcome, status_code, latency_ms, error, reason, goodbye, miner id): the id becomes the tag on insert
PendingRow = tuple[float, str, int | None, float, str | None, str | None, int, str | None]
PRUNE_EVERY = 500  # inserts between prunes (or a tenth of the byte cap): cheap, and the file stays bounded
MAX_PENDING = 5000  # rows queued for the writer thread; beyond that the oldest are dropped
REOPEN_CHECK_S = 60.0
CLOSE_WAIT_S = 1.0
_TROUBLED: set[str] = set()  # files whose trouble is already logged (the GUI's and the worker's stores)


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
        self._salt: bytes | None = None
        if readonly:
            self._db = history_db.open_reader(self.path)
            return
        self._max_rows, self._max_bytes = max_rows, max_bytes
        self._pending: deque[PendingRow] = deque(maxlen=MAX_PENDING)
        self._identity: tuple[int, int] | None = None
        self._next_check = 0.0
        self._since_prune = [0, 0]  # rows, bytes
        self._trouble: str | None = None
        self.dropped = 0
        self.problem: str | None = None
        self._wake = threading.Event()
        self._closing = False
        self._wake.set()  # the writer thread opens the file: the caller (a beat's thread) never waits on it
        # a thread: an SQLite write may wait on the file's lock, and the beat that records it must not
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
            self._db, self._identity = history_db.open_writer(self.path, create_schema)
            self._salt = read_salt(self._db)  # a new file has a new salt; tag() reads it without the lock
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

    def _insert(self, rows: list[PendingRow]) -> None:
        db = self._db
        assert db is not None  # the caller checked that the writer is open
        tagged = [(*row[:7], self._tag_locked(row[7])) for row in rows]
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany(INSERT, tagged)
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
        self._salt = None  # no file, no tag (as before it opened)
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

    def record(
        self, outcome: Outcome, at: float | None = None, *, miner_id: str | None = None, goodbye: bool = False
    ) -> None:
        """Never blocks on the database: the row is queued for the writer thread (which turns the id into
        this file's tag). goodbye: the "offline" beat of a clean stop; accepted, it ends coverage at once."""
        row = (
            self._clock() if at is None else at,
            outcome.kind.value,
            outcome.status_code,
            float(outcome.latency_ms),
            history_db.cap_text(outcome.error),
            outcome.reason.value if outcome.reason else None,
            int(goodbye),
            miner_id,
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
    def _rows(self, sql: str, params: tuple[object, ...]) -> list[tuple[Any, ...]]:
        """Queries see every row recorded so far; an unavailable writer's file reads as empty."""
        if not self._readonly:
            self._flush()
        with self._lock:
            if self._db is None:
                return []
            return self._db.execute(sql, params).fetchall()

    def _horizon(self) -> float:
        return self._clock() + history_db.FUTURE_SLACK_S

    def _tag_locked(self, miner_id: str | None) -> str | None:
        if not miner_id or self._db is None:
            return None
        if self._salt is None:
            self._salt = read_salt(self._db)
        return miner_tag(self._salt, miner_id) if self._salt else None

    def tag(self, miner_id: str | None) -> str | None:
        """This file's tag for a miner id; None for no id (or a file not open or without a salt yet).
        The beat's thread asks it for every snapshot: once the writer knows the salt, it takes no lock and
        does no I/O, so it never waits on the writer's lock wait nor writes queued rows itself."""
        if not self._readonly:
            salt = self._salt
            if salt is not None:
                return miner_tag(salt, miner_id) if miner_id else None
            self._flush()  # opens the file when it can
        with self._lock:
            return self._tag_locked(miner_id)

    # Reads. `miner` is a tag from tag(): each query sees that miner's rows only (None: untagged rows).
    def recent(self, limit: int = 50, miner: str | None = None) -> list[Attempt]:
        return [attempt_from_row(row) for row in self._rows(RECENT, (miner, self._horizon(), limit))]

    def since(self, start: float, limit: int = 5000, miner: str | None = None) -> list[Attempt]:
        """Oldest first; at most `limit` rows (the newest ones), so a fast interval cannot flood a chart."""
        rows = self._rows(SINCE, (miner, start, self._horizon(), limit))
        return [attempt_from_row(row) for row in reversed(rows)]

    def accepted_since(self, start: float, miner: str | None = None) -> list[tuple[float, bool]]:
        """(at, goodbye) of the accepted beats since start, oldest first: all that uptime needs."""
        rows = self._rows(BEATS, (miner, start, self._horizon(), OutcomeKind.ACCEPTED.value))
        return [(at, bool(goodbye)) for at, goodbye in rows]

    def first_at(self, miner: str | None = None) -> float | None:
        """When this miner's history begins: uptime is not counted against time before it."""
        rows = self._rows("SELECT MIN(at) FROM attempts WHERE miner IS ?", (miner,))
        return rows[0][0] if rows else None

    def latest_miner(self) -> str | None:
        """The tag of the newest row: the miner to show when the caller does not know the one in use."""
        rows = self._rows("SELECT miner FROM attempts ORDER BY rowid DESC LIMIT 1", ())
        return rows[0][0] if rows else None

    def success_ratio(self, window_s: float, miner: str | None = None) -> tuple[float | None, int]:
        """(accepted / attempts, attempts) over the window; None when there were no attempts."""
        now = self._clock()
        rows = self._rows(RATIO, (OutcomeKind.ACCEPTED.value, miner, now - window_s, self._horizon()))
        accepted, total = rows[0] if rows else (0, 0)
        return (accepted / total if total else None), total

    def count(self) -> int:
        rows = self._rows("SELECT COUNT(*) FROM attempts", ())
        return rows[0][0] if rows else 0
