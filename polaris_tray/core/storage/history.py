"""Heartbeat history in a small SQLite file: what the status window charts, kept 7 days, no miner id.

Rows carry a tag of the miner id (keyed BLAKE2b with a random per-install salt kept in the file), so the
window shows one miner's attempts without the file ever holding the id or a hash anyone could test ids on.

One HistoryStore per thread (sqlite3 connections are thread-bound): the worker thread writes, the GUI
thread reads. WAL mode lets the reader look while the writer writes.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from polaris_tray.core.status.outcome import NetworkReason, Outcome, OutcomeKind
from polaris_tray.core.status.severity import outcome_colour, parse_kind, parse_reason
from polaris_tray.core.status.state import Colour
from polaris_tray.core.storage.paths import ensure_private_dir, state_dir

HISTORY_FILE_NAME = "history.sqlite3"
KEEP_S = 7 * 86400
PRUNE_EVERY = 500  # inserts between prunes: cheap enough, and the file stays bounded
BUSY_TIMEOUT_S = 5.0

SCHEMA_VERSION = 2  # 1: no reason, goodbye or miner columns (rows from then belong to no miner)
_SCHEMA_STATEMENTS = (
    # at: wall-clock seconds (UTC epoch); error: already redacted by the client, never the miner id
    "CREATE TABLE IF NOT EXISTS attempts "
    "(at REAL NOT NULL, outcome TEXT NOT NULL, status_code INTEGER, latency_ms REAL NOT NULL, error TEXT)",
    "CREATE INDEX IF NOT EXISTS attempts_at ON attempts(at)",
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL)",
)
_V2_COLUMNS = (
    ("reason", "TEXT"),  # NetworkReason value, or NULL
    ("goodbye", "INTEGER NOT NULL DEFAULT 0"),  # 1: the "offline" beat sent on a clean stop
    ("miner", "TEXT"),  # miner_tag() of the id in use; NULL on rows migrated from version 1
)
_V2_INDEX = "CREATE INDEX IF NOT EXISTS attempts_miner_at ON attempts(miner, at)"
_SALT_KEY = "miner_salt"

_SELECT = "SELECT at, outcome, status_code, latency_ms, error, reason, goodbye FROM attempts "
_RECENT = _SELECT + "WHERE miner IS ? ORDER BY at DESC LIMIT ?"
_SINCE = _SELECT + "WHERE miner IS ? AND at >= ? ORDER BY at DESC LIMIT ?"
_INSERT = (
    "INSERT INTO attempts (at, outcome, status_code, latency_ms, error, reason, goodbye, miner) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_BEATS = (  # only accepted rows matter to uptime: a failure neither covers time nor ends coverage
    "SELECT at, goodbye FROM attempts WHERE miner IS ? AND at >= ? AND outcome = ? ORDER BY at"
)


def miner_tag(salt: bytes, miner_id: str) -> str:
    """Keyed, truncated BLAKE2b: equal ids give equal tags in this file only; the id cannot be recovered."""
    digest = hashlib.blake2b(miner_id.encode(), key=salt, digest_size=12, person=b"polaris-miner")
    return digest.hexdigest()


@dataclass(frozen=True)
class Attempt:
    at: float
    outcome: str  # the stored OutcomeKind value; `kind` is the enum (None if a newer version wrote it)
    status_code: int | None
    latency_ms: float
    error: str | None
    reason: str | None = None
    goodbye: bool = False

    @cached_property  # read for every row on every refresh: parse once
    def kind(self) -> OutcomeKind | None:
        return parse_kind(self.outcome)

    @property
    def network_reason(self) -> NetworkReason | None:
        return parse_reason(self.reason)

    @property
    def ok(self) -> bool:
        return self.kind is OutcomeKind.ACCEPTED

    @property
    def colour(self) -> Colour:
        kind = self.kind
        return Colour.AMBER if kind is None else outcome_colour(kind, self.network_reason)


def _attempt(row: tuple) -> Attempt:
    return Attempt(*row[:6], goodbye=bool(row[6]))


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
        self._salt_cache: bytes | None = None
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
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(attempts)")}
        for name, declaration in _V2_COLUMNS:  # version 1 -> 2: existing rows keep miner NULL
            if name not in columns:
                self._db.execute(f"ALTER TABLE attempts ADD COLUMN {name} {declaration}")
        self._db.execute(_V2_INDEX)
        self._db.execute("INSERT OR IGNORE INTO meta VALUES (?, ?)", (_SALT_KEY, os.urandom(16)))
        self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def _salt(self) -> bytes | None:
        if self._salt_cache is None:
            try:
                row = self._db.execute("SELECT value FROM meta WHERE key = ?", (_SALT_KEY,)).fetchone()
            except sqlite3.OperationalError:  # a version 1 file the writer has not migrated yet
                return None
            self._salt_cache = bytes(row[0]) if row else None
        return self._salt_cache

    def tag(self, miner_id: str | None) -> str | None:
        """This file's tag for a miner id; None for no id (or a file without a salt yet)."""
        salt = self._salt()
        return miner_tag(salt, miner_id) if miner_id and salt else None

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

    def record(
        self, outcome: Outcome, at: float | None = None, *, miner_id: str | None = None, goodbye: bool = False
    ) -> None:
        """goodbye: the "offline" beat of a clean stop; accepted, it ends the miner's coverage at once."""
        row = (
            self._clock() if at is None else at,
            outcome.kind.value,
            outcome.status_code,
            float(outcome.latency_ms),
            outcome.error,
            outcome.reason.value if outcome.reason else None,
            int(goodbye),
            self.tag(miner_id),
        )
        self._write(lambda: self._db.execute(_INSERT, row))
        self._inserts += 1
        if self._inserts % PRUNE_EVERY == 0:
            self.prune()

    def prune(self) -> int:
        cutoff = self._clock() - KEEP_S
        return self._write(lambda: self._db.execute("DELETE FROM attempts WHERE at < ?", (cutoff,)).rowcount)

    # Reads. `miner` is a tag from tag(): each query sees that miner's rows only (None: untagged rows).
    def recent(self, limit: int = 50, miner: str | None = None) -> list[Attempt]:
        rows = self._db.execute(_RECENT, (miner, limit)).fetchall()
        return [_attempt(row) for row in rows]

    def since(self, start: float, limit: int = 5000, miner: str | None = None) -> list[Attempt]:
        """Oldest first; at most `limit` rows (the newest ones), so a fast interval cannot flood a chart."""
        rows = self._db.execute(_SINCE, (miner, start, limit)).fetchall()
        return [_attempt(row) for row in reversed(rows)]

    def accepted_since(self, start: float, miner: str | None = None) -> list[tuple[float, bool]]:
        """(at, goodbye) of the accepted beats since start, oldest first: all that uptime needs."""
        rows = self._db.execute(_BEATS, (miner, start, OutcomeKind.ACCEPTED.value)).fetchall()
        return [(at, bool(goodbye)) for at, goodbye in rows]

    def first_at(self, miner: str | None = None) -> float | None:
        """When this miner's history begins: uptime is not counted against time before it."""
        return self._db.execute("SELECT MIN(at) FROM attempts WHERE miner IS ?", (miner,)).fetchone()[0]

    def latest_miner(self) -> str | None:
        """The tag of the newest row: the miner to show when the caller does not know the one in use."""
        row = self._db.execute("SELECT miner FROM attempts ORDER BY at DESC LIMIT 1").fetchone()
        return row[0] if row else None

    def success_ratio(self, window_s: float, miner: str | None = None) -> tuple[float | None, int]:
        """(accepted / attempts, attempts) over the window; None when there were no attempts."""
        accepted, total = self._db.execute(
            "SELECT COALESCE(SUM(outcome = ?), 0), COUNT(*) FROM attempts WHERE miner IS ? AND at >= ?",
            (OutcomeKind.ACCEPTED.value, miner, self._clock() - window_s),
        ).fetchone()
        return (accepted / total if total else None), total

    def count(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM attempts").fetchone()[0]
