"""History never blocks a beat or the GUI, stays under its cap whatever the server sends, and comes back
when its file or directory vanishes or space returns."""

from __future__ import annotations

import json
import shutil
import sqlite3
import stat
import subprocess
import sys
import time

import pytest

from polaris_tray.core.storage import history_db
from polaris_tray.core.storage.history import HistoryStore
from polaris_tray.core.values.outcome import Outcome, OutcomeKind
from tests.support.app import ROOT, app_env, start_app
from tests.support.users import in_private_tmp

OK = Outcome(OutcomeKind.ACCEPTED, 200, 5.0)
MINER = "miner-history-resilience-1"
HUGE = Outcome(OutcomeKind.REJECTED, 422, 5.0, "detail: " + "A\nB\x1b[31m" * 6000)  # ~60 KB


def test_10000_failures_with_60_kb_details_stay_under_the_cap(tmp_path):
    path = tmp_path / "state" / "history.sqlite3"
    store = HistoryStore(path)
    for n in range(10_000):
        store.record(HUGE)
        if n % 1000 == 0:
            store.count()  # beats come paced; a tight loop must not outrun the writer's queue
    assert store.count() == 10_000
    row = store.recent(1)[0]
    assert len(row.error) <= history_db.MAX_ERROR_CHARS and "\n" not in row.error and "\x1b" not in row.error
    store.close()
    size = sum(p.stat().st_size for p in path.parent.iterdir())
    print(
        f"\nhistory after 10,000 failures with 60 KB details: {size / 1e6:.1f} MB (before the cap: ~600 MB)"
    )
    assert size < history_db.MAX_BYTES


def test_the_byte_and_row_caps_hold_whatever_the_rows(tmp_path):
    path = tmp_path / "state" / "history.sqlite3"
    store = HistoryStore(path, max_bytes=256 * 1024, max_rows=5000)
    for _ in range(10_000):
        store.record(HUGE)
    store.prune()
    count = store.count()
    store.close()
    assert 0 < count < 1000 and path.stat().st_size < 320 * 1024  # 300-char rows: ~700 fit in 256 KB
    small = HistoryStore(tmp_path / "rows.sqlite3", max_rows=100)
    for _ in range(1000):
        small.record(OK)
    small.prune()
    assert small.count() == 100
    assert small.recent(1)[0].at == max(a.at for a in small.since(0))
    small.close()


LOCKER = (
    "import sqlite3, sys; db = sqlite3.connect(sys.argv[1], isolation_level=None); "
    "db.execute('PRAGMA locking_mode=EXCLUSIVE'); db.execute('BEGIN EXCLUSIVE'); "
    "db.execute('CREATE TABLE IF NOT EXISTS squat (x)'); db.execute('COMMIT'); "
    "db.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); sys.stdin.read()"
)


def lock_history(path):
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    HistoryStore(path).close()
    locker = subprocess.Popen(
        [sys.executable, "-c", LOCKER, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert locker.stdout.readline().strip() == "locked"
    return locker


def test_a_locked_history_drops_rows_without_blocking_the_caller(tmp_path):
    path = tmp_path / "state" / "history.sqlite3"
    locker = lock_history(path)
    try:
        store = HistoryStore(path)  # returns at once: the writer thread opens the file
        for _ in range(100):
            store.record(OK)  # queued: no database call on the caller's thread
        assert store.count() == 0  # unreadable: read as empty, not an exception, not a 5 s wait
        assert store.dropped == 100 and "locked" in (store.problem or "")
        reader = HistoryStore(path, readonly=True)
        started = time.monotonic()
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            reader.recent()
        print(f"\nGUI reader on a locked history gave up after {time.monotonic() - started:.2f} s (was 5 s)")
        reader.close()
        store.close()
    finally:
        locker.stdin.close()
        locker.wait(5)


def test_asking_the_tag_never_waits_on_a_write_once_the_file_is_open(tmp_path):
    """The beat's thread asks tag() for every snapshot it publishes. Once the file is open that must not
    flush queued rows on the caller's thread, nor wait for the writer's: a file another program holds
    locked cost every beat the writer's 0.5 s lock wait."""
    path = tmp_path / "history.sqlite3"
    store = HistoryStore(path)
    tag = store.tag(MINER)  # opens the file: the salt is known from here on
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another program holds the write lock
    try:
        store.record(OK, miner_id=MINER)  # the writer thread waits up to 0.5 s for the lock
        assert store.tag(MINER) == tag
        assert store.dropped == 0  # the tag came while the writer was still waiting: nothing was waited on
    finally:
        other.execute("ROLLBACK")
        other.close()
    store.record(OK, miner_id=MINER)
    assert store.count() + store.dropped == 2  # the first row: written after the lock, or counted as dropped
    assert [a.ok for a in store.recent(miner=tag)] == [True] * store.count()
    store.close()


def test_a_locked_history_never_delays_the_first_heartbeat(home, orchestrator):
    """The real tray (offscreen) with its history held by another process: beats go out and the trouble is
    logged once."""
    path = home / ".local" / "state" / "polaris-tray" / "history.sqlite3"
    locker = lock_history(path)
    env = app_env(home, QT_QPA_PLATFORM="offscreen")
    started = time.monotonic()
    app = start_app(["--server-url", orchestrator.url, "--interval", "0.2"], env)
    try:
        assert orchestrator.wait_for(1, timeout=30)
        print(f"\nfirst heartbeat {time.monotonic() - started:.2f} s after launch with a locked history")
        assert orchestrator.wait_for(10, timeout=30)
        assert locker.poll() is None  # ten beats went out while the history stayed locked
    finally:
        app.terminate()
        _, err = app.communicate(timeout=15)
        locker.stdin.close()
        locker.wait(5)
    assert err.count("History cannot be written") + err.count("History rows are dropped") == 1, err


def test_a_deleted_state_directory_comes_back_0700(tmp_path):
    state = tmp_path / "state"
    clock = [0.0]
    store = HistoryStore(state / "history.sqlite3", now=lambda: clock[0])
    store.record(OK)
    assert store.count() == 1
    shutil.rmtree(state)
    store.record(OK)  # not checked yet: at most once a minute
    assert not state.exists()
    clock[0] += 61
    store.record(OK)
    assert store.count() >= 1
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    assert stat.S_IMODE((state / "history.sqlite3").stat().st_mode) == 0o600
    store.close()


def test_a_full_disk_drops_rows_and_history_resumes_when_space_returns():
    run = in_private_tmp(
        [sys.executable, str(ROOT / "tests" / "support" / "full_disk_driver.py"), str(ROOT)],
        timeout=120,
        cwd="/",
    )
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["first"] == 1
    assert result["dropped_while_full"] > 0 and "full" in result["problem"], result
    assert result["after"] > result["first"] and result["problem_after"] is None, result
    assert result["log_problem"] and result["log_after"], result  # the log file resumed as well
