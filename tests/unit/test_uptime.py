"""Uptime as the orchestrator counts it, against timelines computed by hand (45 s per accepted beat)."""

import random

import pytest

from polaris_tray.core.status.state import StateTracker
from polaris_tray.core.status.uptime import HOUR_S, Span, history_span, online_spans, uptime
from polaris_tray.core.values.link_state import Colour
from polaris_tray.core.values.outcome import NetworkReason, Outcome, OutcomeKind
from polaris_tray.core.values.severity import outcome_colour


def beats(*times, every=None, until=None):
    if every is not None:
        start = times[0]
        times = [start + i * every for i in range(int((until - start) / every) + 1)]
    return [(float(t), False) for t in times]


def test_steady_beats_cover_until_the_last_one_runs_out():
    result = uptime(beats(0, every=10, until=600), now=650.0, window_s=HOUR_S, first_at=0.0)
    assert result.covered_s == pytest.approx(645.0)  # [0, 600 + 45)
    assert result.span_s == 650.0 and result.clipped
    assert result.ratio == pytest.approx(645 / 650)


def test_a_gap_longer_than_45_s_is_offline_from_45_s_after_the_last_beat():
    timeline = beats(0, 10, 20, 100, 110)
    assert online_spans(timeline, 0.0, 200.0) == [Span(0.0, 65.0), Span(100.0, 155.0)]
    assert uptime(timeline, now=200.0, window_s=HOUR_S, first_at=0.0).covered_s == 120.0


def test_a_gap_of_exactly_45_s_stays_online():
    assert online_spans(beats(0, 45, 90), 0.0, 1000.0) == [Span(0.0, 135.0)]


def test_an_accepted_goodbye_ends_coverage_at_once():
    timeline = [*beats(0, 10, 20), (25.0, True)]
    assert online_spans(timeline, 0.0, 100.0) == [Span(0.0, 25.0)]
    assert uptime(timeline, now=100.0, window_s=HOUR_S, first_at=0.0).ratio == 0.25


def test_a_stop_without_goodbye_or_a_quit_is_online_for_45_s_more():
    # a goodbye that failed is not an accepted row: the orchestrator waits its 45 s
    assert uptime(beats(0, 10, 20), now=100.0, window_s=HOUR_S, first_at=0.0).covered_s == 65.0


def test_sleep_counts_as_offline():
    before = beats(0, every=30, until=600)
    after = beats(4200, every=30, until=4800)  # asleep from ~600 to 4200
    result = uptime(before + after, now=4800.0, window_s=HOUR_S * 2, first_at=0.0)
    assert result.covered_s == pytest.approx((645 - 0) + (4800 - 4200))
    assert result.span_s == 4800.0


def test_a_window_that_opens_mid_coverage_counts_the_covered_part():
    # the beat at 30 covers [30, 75); the window is [40, 100)
    result = uptime(beats(0, 30), now=100.0, window_s=60.0)
    assert result.covered_s == 35.0 and result.span_s == 60.0 and not result.clipped


def test_coverage_never_runs_past_now_and_no_history_is_no_figure():
    assert uptime(beats(90), now=100.0, window_s=HOUR_S, first_at=90.0).ratio == 1.0
    empty = uptime([], now=100.0, window_s=HOUR_S, first_at=None)
    assert empty.ratio == 0.0 and uptime([], now=5.0, window_s=HOUR_S, first_at=5.0).ratio is None


def test_words_say_when_history_is_younger_than_the_window():
    result = uptime(beats(0, every=10, until=600), now=600.0, window_s=HOUR_S, first_at=0.0)
    assert result.clipped and history_span(result) == "10 min"


def test_the_scripted_session_hand_computed():
    """Online 10 min, stopped 2 min (goodbye accepted), failing 1 min, online 5 min; beats every 5 s."""
    online1 = beats(0, every=5, until=595)
    goodbye = [(600.0, True)]
    online2 = beats(780, every=5, until=1080)  # failing 720..780 writes no accepted row
    result = uptime([*online1, *goodbye, *online2], now=1080.0, window_s=HOUR_S, first_at=0.0)
    assert result.covered_s == pytest.approx(600 + 300)  # 0-600 and 780-1080
    assert result.ratio == pytest.approx(900 / 1080)


@pytest.mark.parametrize(
    ("outcome", "colour"),
    [
        (Outcome(OutcomeKind.ACCEPTED), Colour.GREEN),
        (Outcome(OutcomeKind.SERVER_ERROR, 500), Colour.AMBER),
        (Outcome(OutcomeKind.RATE_LIMITED, 429), Colour.AMBER),
        (Outcome(OutcomeKind.NETWORK_ERROR, reason=NetworkReason.REFUSED), Colour.AMBER),
        (Outcome(OutcomeKind.NETWORK_ERROR, reason=NetworkReason.TLS), Colour.RED),
        (Outcome(OutcomeKind.NOT_REGISTERED, 404), Colour.RED),
        (Outcome(OutcomeKind.REJECTED, 422), Colour.RED),
        (Outcome(OutcomeKind.CONFIG_ERROR), Colour.RED),
    ],
)
def test_one_severity_rule_for_tray_chart_and_table(outcome, colour):
    assert outcome_colour(outcome.kind, outcome.reason) is colour
    assert outcome.needs_attention is (colour is Colour.RED)  # the tray's ATTENTION state asks the same rule


def test_the_tooltip_asks_for_a_missing_history_once_a_minute():
    from polaris_tray.core.status.snapshot import Snapshot
    from polaris_tray.core.status.uptime_cache import UptimeCache, with_uptime
    from polaris_tray.core.values.link_state import LinkState

    asked = []
    cache = UptimeCache()
    snap = Snapshot(LinkState.ONLINE, "https://o/api/v1")
    for now in (0.0, 1.0, 30.0, 61.0):
        assert with_uptime(snap, lambda: asked.append(1), cache, now) is snap
    assert len(asked) == 2  # at 0 and at 61 s


def test_coverage_fed_in_pieces_equals_coverage_fed_at_once():
    from polaris_tray.core.status.uptime import Coverage

    timeline = [*beats(0, 10, 20), (25.0, True), *beats(100, 110, 300, 320)]
    whole = Coverage()
    whole.feed(timeline)
    for cut in range(len(timeline) + 1):
        pieces = Coverage()
        pieces.feed(timeline[:cut])
        pieces.feed(timeline[cut:])
        assert pieces.spans(0.0, 1000.0) == whole.spans(0.0, 1000.0)


def test_the_cache_reads_new_beats_only_and_agrees_with_a_fresh_count(tmp_path):
    from polaris_tray.core.status.uptime_cache import UptimeCache
    from polaris_tray.core.storage.history import HistoryStore
    from polaris_tray.core.values.outcome import Outcome, OutcomeKind

    ok = Outcome(OutcomeKind.ACCEPTED, 200)
    store = HistoryStore(tmp_path / "h.sqlite3", clock=lambda: 10_000.0)
    for at in range(0, 3000, 10):
        store.record(ok, at=float(at), miner_id="m")
    tag, cache = store.tag("m"), UptimeCache()
    cache.figures(store, tag, 3000.0)
    store.record(ok, at=3005.0, miner_id="m", goodbye=True)  # a stop, then beats again after a gap
    for at in range(4000, 5000, 10):
        store.record(ok, at=float(at), miner_id="m")
    later = cache.figures(store, tag, 5000.0)
    assert cache._coverage.last_at == 4990.0
    assert later == UptimeCache().figures(store, tag, 5000.0)
    assert later[0][1].covered_s == pytest.approx(3005 - 1400 + 1000)  # the hour [1400, 5000)


def test_uptime_history_counts_exactly_what_the_tracker_calls_counted_online():
    """One rule for the history and the live state: 45 s per accepted beat, ended by an accepted goodbye."""
    rng = random.Random(7)
    accepted = Outcome(OutcomeKind.ACCEPTED, 200)
    timeline, at = [], 0.0
    for _ in range(200):
        at += rng.choice([5.0, 20.0, 30.0, 44.0, 46.0, 90.0])
        timeline.append((at, rng.random() < 0.15))
    spans = online_spans(timeline, 0.0, at + 100)
    tracker = StateTracker(interval_s=30.0)
    tracker.start(0.0)
    fed = 0
    for probe in (x * 0.5 for x in range(int((at + 100) * 2))):
        while fed < len(timeline) and timeline[fed][0] <= probe:  # the tracker as it was at the probe
            b_at, goodbye = timeline[fed]
            (tracker.record_goodbye if goodbye else tracker.record)(accepted, b_at)
            fed += 1
        covered = any(s.start <= probe < s.end for s in spans)
        assert tracker.counted(probe) == covered, probe
