"""History schema v2: per-miner tags (never the id), outcome reason and goodbye kept, v1 files migrated."""

import sqlite3

from polaris_tray.core.storage.history import HistoryStore
from polaris_tray.core.storage.history_schema import SCHEMA_VERSION
from polaris_tray.core.values.link_state import Colour
from polaris_tray.core.values.outcome import NetworkReason, Outcome, OutcomeKind
from polaris_tray.core.values.severity import outcome_colour

OK = Outcome(OutcomeKind.ACCEPTED, 200, latency_ms=50.0)
TLS = Outcome(OutcomeKind.NETWORK_ERROR, latency_ms=3.0, error="Bad certificate.", reason=NetworkReason.TLS)
A, B = "miner-aaaa-1111-secret", "miner-bbbb-2222-secret"


def test_each_miner_sees_only_its_own_rows_and_ratios(tmp_path):
    store = HistoryStore(tmp_path / "h.sqlite3", clock=lambda: 1000.0)
    for at in (900.0, 910.0):
        store.record(OK, at=at, miner_id=A)
    store.record(TLS, at=920.0, miner_id=B)
    a, b = store.tag(A), store.tag(B)
    assert a != b and len(a) == 24
    assert [r.at for r in store.recent(miner=a)] == [910.0, 900.0]
    assert store.success_ratio(3600, miner=a) == (1.0, 2)
    assert store.success_ratio(3600, miner=b) == (0.0, 1)
    assert store.latest_miner() == b and store.first_at(a) == 900.0
    store.close()
    raw = b"".join(f.read_bytes() for f in tmp_path.iterdir())
    assert A.encode() not in raw and B.encode() not in raw


def test_the_tag_is_salted_per_install(tmp_path):
    one, two = HistoryStore(tmp_path / "1.sqlite3"), HistoryStore(tmp_path / "2.sqlite3")
    assert one.tag(A) != two.tag(A)  # a tag cannot be matched against a list of ids computed elsewhere
    assert HistoryStore(tmp_path / "1.sqlite3", readonly=True).tag(A) == one.tag(A)


def test_reason_and_goodbye_are_stored_and_colour_the_row(tmp_path):
    store = HistoryStore(tmp_path / "h.sqlite3", clock=lambda: 1000.0)
    store.record(TLS, at=1.0, miner_id=A)
    store.record(OK, at=2.0, miner_id=A, goodbye=True)
    tag = store.tag(A)
    goodbye, tls = store.recent(miner=tag)
    assert tls.network_reason is NetworkReason.TLS
    assert outcome_colour(tls.kind, tls.network_reason) is Colour.RED  # red in the tray too
    assert goodbye.goodbye and goodbye.ok
    assert outcome_colour(goodbye.kind, goodbye.network_reason) is Colour.GREEN
    assert store.accepted_since(0.0, miner=tag) == [(2.0, True)]


def test_a_version_1_file_is_migrated_and_keeps_its_rows(tmp_path):
    path = tmp_path / "h.sqlite3"
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE attempts (at REAL NOT NULL, outcome TEXT NOT NULL, status_code INTEGER, "
        "latency_ms REAL NOT NULL, error TEXT)"
    )
    db.execute("CREATE INDEX attempts_at ON attempts(at)")
    db.execute("INSERT INTO attempts VALUES (500.0, 'server_error', 500, 12.0, 'boom')")
    db.commit()
    db.close()
    store = HistoryStore(path, clock=lambda: 1000.0)
    assert store.count() == 1  # a read waits for the writer thread, which opens (and migrates) the file
    assert store._db is not None
    assert store._db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    old = store.recent()  # untagged rows belong to no miner: shown to nobody by default
    assert [(r.at, r.outcome, r.reason, r.goodbye) for r in old] == [(500.0, "server_error", None, False)]
    store.record(OK, at=600.0, miner_id=A)
    assert [r.at for r in store.recent(miner=store.tag(A))] == [600.0]
    store.close()
    HistoryStore(path, clock=lambda: 1000.0).close()  # migrating twice is a no-op
