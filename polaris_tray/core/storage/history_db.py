"""The history file's plumbing: opened without following symlinks, short lock waits, bounded by rows and
bytes, pruned by a clock that a step forward or back cannot fool.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import stat
import time
from collections.abc import Callable
from pathlib import Path

from polaris_tray.core.storage.paths import UnsafePath, ensure_private_dir, open_private

WRITE_TIMEOUT_S = 0.5  # a writer waits this long for a lock, off the beat's path; then the rows are dropped
READ_TIMEOUT_S = 0.25  # the GUI's reader: a locked file costs the window at most this per query
KEEP_S = 7 * 86400
FUTURE_SLACK_S = 300.0  # rows further ahead than this were written under a wrong clock: not "recent"
MAX_ROWS = 200_000
MAX_BYTES = 16 * 1024 * 1024
MAX_ERROR_CHARS = 300
JOURNAL_LIMIT = 1024 * 1024  # the WAL is truncated back to this after a checkpoint
SIDE_FILES = ("-wal", "-shm", "-journal")


def cap_text(text: str | None) -> str | None:
    """Whatever the server sent: no control characters, at most MAX_ERROR_CHARS."""
    if text is None:
        return None
    clean = "".join(c if c.isprintable() else " " for c in text[: MAX_ERROR_CHARS * 2])
    return clean if len(clean) <= MAX_ERROR_CHARS else clean[: MAX_ERROR_CHARS - 1] + "…"


def _refuse_planted(path: Path) -> None:
    """sqlite creates its -wal/-shm itself and would follow a symlink there: none may exist that we did
    not make (the directory is verified private, so only a past or privileged hand could have put one)."""
    for name in (path.name, *(path.name + s for s in SIDE_FILES)):
        candidate = path.with_name(name)
        try:
            st = os.lstat(candidate)
        except FileNotFoundError:
            continue
        if stat.S_ISLNK(st.st_mode) or not stat.S_ISREG(st.st_mode):
            raise UnsafePath(errno.ELOOP, "a symlink or special file; not followed", str(candidate))
        if hasattr(os, "geteuid") and (st.st_uid != os.geteuid() or st.st_nlink != 1):
            raise UnsafePath(errno.EPERM, "not a private file of ours", str(candidate))


def identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def open_writer(
    path: Path, create_schema: Callable[[sqlite3.Connection], None]
) -> tuple[sqlite3.Connection, tuple[int, int] | None]:
    """A checked connection (shared across threads under the caller's lock) and the file's identity."""
    ensure_private_dir(path.parent)
    _refuse_planted(path)
    os.close(open_private(path, os.O_RDWR))  # created 0600 (sqlite gives its journals the same mode)
    db = sqlite3.connect(path, timeout=WRITE_TIMEOUT_S, isolation_level=None, check_same_thread=False)
    try:
        db.execute("PRAGMA auto_vacuum=INCREMENTAL")  # takes effect on a new file: freed pages are returned
        _set_wal(db)
        db.execute(f"PRAGMA journal_size_limit={JOURNAL_LIMIT}")
        db.execute("PRAGMA cache_size=-256")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("BEGIN IMMEDIATE")
        try:
            create_schema(db)
        except BaseException:
            rollback(db)
            raise
        db.execute("COMMIT")
    except BaseException:
        db.close()
        raise
    return db, identity(path)


def rollback(db: sqlite3.Connection) -> None:
    """sqlite has already rolled back after some errors (a full disk): a 2nd ROLLBACK must not mask them."""
    try:
        db.execute("ROLLBACK")
    except sqlite3.Error:
        pass


def _set_wal(db: sqlite3.Connection) -> None:
    """Switching the journal mode ignores the busy timeout: retry it for as long as the timeout."""
    deadline = time.monotonic() + WRITE_TIMEOUT_S
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def open_reader(path: Path) -> sqlite3.Connection:
    uri = f"{Path(path).absolute().as_uri()}?mode=ro"  # as_uri percent-encodes spaces, ? and #
    db = sqlite3.connect(uri, uri=True, timeout=READ_TIMEOUT_S)
    try:
        db.execute("PRAGMA cache_size=-256")  # 256 KiB: the table is small; the default is 2 MB
    except sqlite3.OperationalError:
        pass  # locked right now: the queries will say so, each within READ_TIMEOUT_S
    return db


def prune(db: sqlite3.Connection, now: float, max_rows: int, max_bytes: int) -> int:
    """Deletes rows older than KEEP_S, then the oldest beyond the row and byte caps; returns the age count.

    Age is measured from the newest row that is not in the future, not from now alone: one start with the
    clock 30 days ahead deletes nothing, and rows from a clock that ran ahead are left to the caps."""
    (newest,) = db.execute("SELECT MAX(at) FROM attempts WHERE at <= ?", (now + FUTURE_SLACK_S,)).fetchone()
    anchor = now if newest is None else min(now, newest)
    aged = db.execute("DELETE FROM attempts WHERE at < ?", (anchor - KEEP_S,)).rowcount
    _keep_newest(db, max_rows)
    page_size = db.execute("PRAGMA page_size").fetchone()[0]
    used = db.execute("PRAGMA page_count").fetchone()[0] - db.execute("PRAGMA freelist_count").fetchone()[0]
    if used * page_size > max_bytes:
        (count,) = db.execute("SELECT COUNT(*) FROM attempts").fetchone()
        _keep_newest(db, int(count * 0.75 * max_bytes / (used * page_size)))
    return aged


def _keep_newest(db: sqlite3.Connection, keep: int) -> None:
    db.execute(
        "DELETE FROM attempts WHERE rowid <= "
        "(SELECT rowid FROM attempts ORDER BY rowid DESC LIMIT 1 OFFSET ?)",
        (max(0, keep),),
    )
