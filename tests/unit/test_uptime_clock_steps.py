"""The uptime cache after the wall clock steps (NTP, a user, a VM restore): never more than the history
supports, always what a fresh count of the history gives. The wall clock is injected (the store's and the
cache's `now`), the monotonic clock too."""

import random

import pytest

from polaris_tray.core.status.snapshot import Snapshot
from polaris_tray.core.status.uptime import HOUR_S, WEEK_S
from polaris_tray.core.status.uptime_cache import TRAY_EVERY_S, UptimeCache, with_uptime
from polaris_tray.core.storage.history import HistoryStore
from polaris_tray.core.values.link_state import LinkState
from polaris_tray.core.values.outcome import Outcome, OutcomeKind

OK = Outcome(OutcomeKind.ACCEPTED, 200)
FAILED = Outcome(OutcomeKind.SERVER_ERROR, 500)


class Clocks:
    """The wall clock (stepped at will) and the monotonic one (never stepped), moved together."""

    def __init__(self, wall: float) -> None:
        self.wall, self.mono = wall, 1000.0

    def run(self, seconds: float) -> None:
        self.wall += seconds
        self.mono += seconds

    def step(self, seconds: float) -> None:
        self.wall += seconds


@pytest.fixture
def world(tmp_path):
    clocks = Clocks(100_000.0)
    store = HistoryStore(tmp_path / "h.sqlite3", clock=lambda: clocks.wall)
    yield clocks, store, store.tag("m")
    store.close()


def tray_cache(clocks, horizon_s=HOUR_S, every_s=TRAY_EVERY_S):
    return UptimeCache(every_s, every_s, horizon_s, monotonic=lambda: clocks.mono)


def beat(clocks, store, seconds, outcome=OK, goodbye=False):
    """seconds of running, then one attempt written at the wall clock's time."""
    clocks.run(seconds)
    store.record(outcome, at=clocks.wall, miner_id="m", goodbye=goodbye)


def fresh(store, tag, now, horizon_s=HOUR_S):
    return UptimeCache(horizon_s=horizon_s).figures(store, tag, now)


def test_a_goodbye_after_a_step_back_ends_the_cached_hour_too(world):
    """Online, the clock steps back 10 min into a time the history shows quiet, then Stop's accepted goodbye:
    the orchestrator stops counting at once. Before: the cache never read rows older than its newest and
    kept counting the 45 s after the last beat it had seen."""
    clocks, store, tag = world
    cache = tray_cache(clocks)
    for _ in range(90):  # 15 min online
        beat(clocks, store, 10)
    clocks.run(600)  # quit without a goodbye (a crash): 10 min quiet
    for _ in range(30):
        beat(clocks, store, 10)
    assert cache.hour(store, tag, clocks.wall).covered_s == pytest.approx(935 + 290)
    clocks.step(-900)  # back into the quiet 10 min
    beat(clocks, store, 30)
    beat(clocks, store, 2, goodbye=True)  # Stop: the goodbye is accepted
    clocks.run(60)
    now = clocks.wall
    assert cache.hour(store, tag, now) == fresh(store, tag, now)[0][1]


def test_beats_after_a_forward_step_is_undone_count_again(world):
    """The clock ran a day ahead, NTP puts it right: the beats after that are counted. Before: the cache's
    newest row was a day ahead, so every later row looked old and the hour fell to 0 % while online."""
    clocks, store, tag = world
    cache = tray_cache(clocks)
    for _ in range(60):
        beat(clocks, store, 10)
    cache.hour(store, tag, clocks.wall)
    clocks.step(86_400)
    for _ in range(6):
        beat(clocks, store, 10)
        cache.hour(store, tag, clocks.wall)
    clocks.step(-86_400)
    for _ in range(400):  # a bit over an hour online after the correction
        beat(clocks, store, 10)
        cache.hour(store, tag, clocks.wall)
    now = clocks.wall
    got = cache.hour(store, tag, now)
    assert got == fresh(store, tag, now)[0][1]
    assert got.ratio == pytest.approx(1.0)


def test_a_step_forward_counts_the_skipped_time_as_offline_and_reads_incrementally(world):
    """A step forward alone was already right (pinned here): the jumped-over time has no beats, so it is
    offline, the figures are a fresh count, and no re-read is needed."""
    clocks, store, tag = world
    cache = tray_cache(clocks, every_s=0.0)
    for _ in range(200):
        beat(clocks, store, 10)
        cache.hour(store, tag, clocks.wall)
    held = cache._coverage
    clocks.step(1800)
    for _ in range(6):
        beat(clocks, store, 10)
    now = clocks.wall
    got = cache.hour(store, tag, now)
    assert got == fresh(store, tag, now)[0][1]
    assert got.covered_s == pytest.approx((3600 - 1860 + 45) + 50)  # before the step (+45 s), then 6 beats
    assert cache._coverage is held


def test_a_step_back_smaller_than_the_refresh_still_counts_the_rows_written_under_it(world):
    """A 6 s step back between two refreshes (the wall clock alone never goes below the last one): the
    monotonic clock shows it, and the goodbye written under it ends the hour's coverage."""
    clocks, store, tag = world
    cache = tray_cache(clocks)
    for _ in range(30):
        beat(clocks, store, 10)
    last = clocks.wall
    cache.hour(store, tag, last)
    clocks.step(-6)
    beat(clocks, store, 1, goodbye=True)  # at last - 5: older than the newest row the cache had read
    clocks.run(50)
    now = clocks.wall
    assert now > last
    assert cache.hour(store, tag, now) == fresh(store, tag, now)[0][1]


@pytest.mark.parametrize("seed", range(6))
def test_random_steps_never_above_100_percent_and_always_a_fresh_count(world, seed):
    clocks, store, tag = world
    rng = random.Random(seed)
    tray, week = tray_cache(clocks, every_s=0.0), tray_cache(clocks, WEEK_S, every_s=0.0)  # no kept figure
    for _ in range(250):
        draw = rng.random()
        if draw < 0.03:
            clocks.step(-rng.choice([3.0, 40.0, 200.0, 900.0, 4000.0]))
        elif draw < 0.05:
            clocks.step(rng.choice([3.0, 40.0, 900.0, 9000.0]))
        if rng.random() < 0.8:
            outcome = OK if rng.random() < 0.85 else FAILED
            beat(clocks, store, rng.choice([2.0, 10.0, 30.0, 50.0]), outcome, goodbye=rng.random() < 0.08)
        else:
            clocks.run(rng.choice([10.0, 120.0]))
        now = clocks.wall
        assert tray.hour(store, tag, now) == fresh(store, tag, now)[0][1]
        figures = week.figures(store, tag, now)
        assert figures == fresh(store, tag, now, WEEK_S)
        assert all(u.ratio is None or u.ratio <= 1.0 for _label, u in figures)


def test_the_cache_still_reads_only_new_rows_while_the_clock_is_steady(world):
    clocks, store, tag = world
    cache = tray_cache(clocks, every_s=0.0)
    for _ in range(100):
        beat(clocks, store, 10)
        cache.hour(store, tag, clocks.wall)
    held = cache._coverage
    for _ in range(100):
        clocks.run(0.5)  # the wall clock slewed by NTP, within the slack: no step
        beat(clocks, store, 9.5)
        clocks.mono += 0.005
        assert cache.hour(store, tag, clocks.wall) == fresh(store, tag, clocks.wall)[0][1]
    assert cache._coverage is held  # fed the new rows, never read again from the horizon


def test_the_tooltip_asks_again_for_a_missing_history_after_a_step_back(world):
    clocks, _store, _tag = world
    cache, asked = tray_cache(clocks), []
    snap = Snapshot(LinkState.ONLINE, "https://o/api/v1")
    with_uptime(snap, lambda: asked.append(1), cache, 5000.0)
    with_uptime(snap, lambda: asked.append(1), cache, 5000.0 - 86_400)  # before: not again for a day
    assert len(asked) == 2


def test_the_status_windows_hour_after_a_step_back_is_a_fresh_read(world):
    """RecentRows (the status window's hour, chart and table): before, after a step back of more than a
    minute it never read the rows written since (all older than its newest), so a Stop's goodbye and every
    later attempt were missing until the clock caught up."""
    from polaris_tray.core.status.recent_rows import RecentRows
    from polaris_tray.core.status.uptime import uptime_of

    clocks, store, tag = world

    def read(rows: RecentRows) -> RecentRows:
        end = (
            clocks.wall // 60 + 1
        ) * 60  # the window's end: the current minute's (latency_chart.window_end)
        rows.read(store, tag, end - HOUR_S - 45, end)
        return rows

    held = RecentRows()
    for _ in range(60):
        beat(clocks, store, 10)
        read(held)
    clocks.step(-300)
    for _ in range(3):
        beat(clocks, store, 10)
        read(held)
    beat(clocks, store, 5, goodbye=True)
    clocks.run(30)
    now = clocks.wall
    first = store.first_at(tag)
    again = read(RecentRows())
    assert [a.at for a in read(held).rows] == [a.at for a in again.rows]
    assert uptime_of(held.coverage, now, HOUR_S, first) == uptime_of(again.coverage, now, HOUR_S, first)
