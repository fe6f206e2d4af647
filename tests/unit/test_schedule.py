import random

import pytest

from polaris_tray.core.heartbeat.schedule import MAX_BACKOFF_S, BeatSchedule


def make(interval=30.0, seed=7):
    return BeatSchedule(interval, random.Random(seed))


def test_first_beat_goes_at_start():
    assert make().start(100.0) == 100.0


def test_fixed_rate_has_no_drift_when_attempts_take_time():
    s = make(interval=1.0)
    deadline = s.start(0.0)
    for n in range(1, 1001):
        # each attempt completes 0.3 s after its deadline; the grid must not slide by that
        deadline = s.after_success(deadline + 0.3)
        assert deadline == pytest.approx(float(n))


def test_missed_ticks_are_skipped_not_burst():
    s = make(interval=1.0)
    s.start(0.0)
    # an attempt stalled 7.5 s (a suspended laptop, a hang): exactly one next beat, on the grid
    nxt = s.after_success(7.5)
    assert nxt == pytest.approx(8.0)
    assert s.after_success(8.01) == pytest.approx(9.0)


@pytest.mark.parametrize(
    ("interval", "k", "window"),
    [
        (30.0, 1, (2.5, 5.0)),
        (30.0, 2, (5.0, 10.0)),
        (30.0, 3, (10.0, 20.0)),
        (30.0, 7, (150.0, 300.0)),
        (30.0, 8, (150.0, 300.0)),
        (30.0, 60, (150.0, 300.0)),
        (2.0, 1, (1.0, 2.0)),
        (0.1, 1, (0.05, 0.1)),
        (0.1, 3, (0.2, 0.4)),
    ],
)
def test_backoff_window(interval, k, window):
    assert make(interval).backoff_window(k) == pytest.approx(window)


def test_failure_waits_fall_in_the_window_and_are_jittered():
    s = make(interval=30.0, seed=1)
    s.start(0.0)
    waits = []
    now = 0.0
    for k in range(1, 11):
        nxt = s.after_failure(now)
        low, high = s.backoff_window(k)
        assert low <= nxt - now <= high
        waits.append(nxt - now)
        now = nxt
    assert len({round(w, 6) for w in waits}) == len(waits)
    assert max(waits) <= MAX_BACKOFF_S


def test_first_retry_stays_inside_the_orchestrators_45_s_window():
    for seed in range(200):
        s = make(interval=3600.0, seed=seed)
        s.start(0.0)
        assert s.after_failure(0.0) <= 5.0


def test_retry_after_lengthens_the_wait_and_is_capped():
    s = make(interval=30.0)
    s.start(0.0)
    assert s.after_failure(10.0, retry_after=42.0) == pytest.approx(52.0)
    s2 = make(interval=30.0)
    s2.start(0.0)
    assert s2.after_failure(0.0, retry_after=10_000.0) == pytest.approx(MAX_BACKOFF_S)


def test_short_retry_after_does_not_shorten_the_backoff():
    s = make(interval=30.0)
    s.start(0.0)
    nxt = s.after_failure(0.0, retry_after=0.5)
    assert 2.5 <= nxt <= 5.0


def test_success_after_failures_resets_and_reanchors():
    s = make(interval=30.0)
    s.start(0.0)
    t = s.after_failure(0.0)
    t = s.after_failure(t)
    assert s.failures == 2
    assert s.after_success(t + 0.2) == pytest.approx(t + 0.2 + 30.0)
    assert s.failures == 0
    # back on a fixed-rate grid anchored at that success
    assert s.after_success(t + 30.2 + 0.1) == pytest.approx(t + 0.2 + 60.0)
    low, high = s.backoff_window(s.failures + 1)
    assert (low, high) == (2.5, 5.0)


def test_seeded_randomness_is_reproducible():
    a, b = make(seed=3), make(seed=3)
    a.start(0.0)
    b.start(0.0)
    assert [a.after_failure(i) for i in range(5)] == [b.after_failure(i) for i in range(5)]


def test_interval_below_minimum_is_refused():
    with pytest.raises(ValueError, match="at least"):
        BeatSchedule(0.05)


def test_wall_clock_is_never_consulted(monkeypatch):
    import time

    monkeypatch.setattr(time, "time", lambda: (_ for _ in ()).throw(AssertionError("wall clock used")))
    s = make(interval=1.0)
    s.start(5.0)
    assert s.after_success(5.1) == pytest.approx(6.0)
