"""The history file's shape: tables and their migration, the rows read back, the miner tag, the queries.

Rows carry a tag of the miner id (keyed BLAKE2b with a random per-install salt kept in the file), so the
window shows one miner's attempts without the file ever holding the id or a hash anyone could test ids on.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from polaris_tray.core.values.outcome import NetworkReason, OutcomeKind

SCHEMA_VERSION = 2  # 1: no reason, goodbye or miner columns (rows from then belong to no miner)
_SCHEMA_STATEMENTS = (
    # at: wall-clock seconds (UTC epoch); error: redacted and capped, never the miner id
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
SALT_KEY = "miner_salt"

# Rows from a clock that ran ahead (at > now + slack) are never read back; newest means last written (rowid).
_SELECT = "SELECT at, outcome, status_code, latency_ms, error, reason, goodbye FROM attempts "
RECENT = _SELECT + "WHERE miner IS ? AND at <= ? ORDER BY rowid DESC LIMIT ?"
SINCE = _SELECT + "WHERE miner IS ? AND at >= ? AND at <= ? ORDER BY at DESC LIMIT ?"
INSERT = (
    "INSERT INTO attempts (at, outcome, status_code, latency_ms, error, reason, goodbye, miner) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
BEATS = (  # only accepted rows matter to uptime: a failure neither covers time nor ends coverage
    "SELECT at, goodbye FROM attempts WHERE miner IS ? AND at >= ? AND at <= ? AND outcome = ? ORDER BY at"
)
RATIO = (
    "SELECT COALESCE(SUM(outcome = ?), 0), COUNT(*) FROM attempts WHERE miner IS ? AND at >= ? AND at <= ?"
)


def create_schema(db: sqlite3.Connection) -> None:
    """Inside the writer's opening transaction; one statement at a time (executescript would commit it)."""
    for statement in _SCHEMA_STATEMENTS:
        db.execute(statement)
    columns = {row[1] for row in db.execute("PRAGMA table_info(attempts)")}
    for name, declaration in _V2_COLUMNS:  # version 1 -> 2: existing rows keep miner NULL
        if name not in columns:
            db.execute(f"ALTER TABLE attempts ADD COLUMN {name} {declaration}")
    db.execute(_V2_INDEX)
    db.execute("INSERT OR IGNORE INTO meta VALUES (?, ?)", (SALT_KEY, os.urandom(16)))
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")


def read_salt(db: sqlite3.Connection) -> bytes | None:
    try:
        row = db.execute("SELECT value FROM meta WHERE key = ?", (SALT_KEY,)).fetchone()
    except sqlite3.OperationalError:  # a version 1 file the writer has not migrated yet
        return None
    return bytes(row[0]) if row else None


def miner_tag(salt: bytes, miner_id: str) -> str:
    """Keyed, truncated BLAKE2b: equal ids give equal tags in this file only; the id cannot be recovered."""
    digest = hashlib.blake2b(miner_id.encode(), key=salt, digest_size=12, person=b"polaris-miner")
    return digest.hexdigest()


def parse_kind(value: str) -> OutcomeKind | None:
    """A stored kind back to the enum; None for a value this version does not know (a newer writer)."""
    try:
        return OutcomeKind(value)
    except ValueError:
        return None


def parse_reason(value: str | None) -> NetworkReason | None:
    try:
        return NetworkReason(value) if value else None
    except ValueError:
        return NetworkReason.OTHER


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


def attempt_from_row(row: tuple[Any, ...]) -> Attempt:  # as sqlite3 gives it: one of RECENT, SINCE
    at, outcome, status_code, latency_ms, error, reason, goodbye = row
    return Attempt(at, outcome, status_code, latency_ms, error, reason, bool(goodbye))
