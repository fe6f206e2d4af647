"""BeatPoster against a real server on 127.0.0.1, one reply class or fault at a time."""

import threading
import time
import tracemalloc
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from polaris_tray.core.heartbeat.classify import parse_retry_after
from polaris_tray.core.heartbeat.poster import BeatPoster
from polaris_tray.core.values.outcome import NetworkReason, OutcomeKind
from tests.support.orchestrator import Drip, Hang, Huge, Orchestrator, Reply, Reset

MINER = "miner-abcdef123456"
BODY = {"metrics": {"miner_id": MINER}}


def post(server, deadline=2.0, **kw):
    poster = BeatPoster(server.url, "PolarisHeartbeat/test", deadline_s=deadline, **kw)
    try:
        return poster.post(BODY, secrets=(MINER,))
    finally:
        poster.close()


def test_accepted_keeps_last_seen_and_commands(orchestrator):
    orchestrator.behaviour = Reply(
        200, {"status": "success", "last_seen": "2026-11-27T10:00:00", "commands": [{"op": "noop"}]}
    )
    out = post(orchestrator)
    assert out.ok and out.status_code == 200
    assert out.last_seen == "2026-11-27T10:00:00"
    assert out.commands == ({"op": "noop"},)
    assert out.latency_ms > 0
    arrival = orchestrator.arrivals[0]
    assert arrival.path == "/api/v1/heart_beat"
    assert arrival.headers["User-Agent"] == "PolarisHeartbeat/test"
    assert arrival.headers["Content-Type"] == "application/json"
    assert arrival.body == BODY


def test_rejected_carries_the_servers_detail(orchestrator):
    orchestrator.behaviour = Reply(
        422,
        {
            "detail": [
                {
                    "loc": ["body", "metrics", "metrics", "cpu_usage"],
                    "msg": "Field required",
                    "type": "missing",
                }
            ]
        },
    )
    out = post(orchestrator)
    assert out.kind is OutcomeKind.REJECTED and out.status_code == 422
    assert "metrics.metrics.cpu_usage: Field required" in out.error


def test_not_registered_never_echoes_the_miner_id(orchestrator):
    orchestrator.behaviour = Reply(404, {"detail": f"Miner {MINER} not found"})
    out = post(orchestrator)
    assert out.kind is OutcomeKind.NOT_REGISTERED
    assert MINER not in out.error and "mine…" in out.error


def test_rate_limited_with_retry_after_seconds(orchestrator):
    orchestrator.behaviour = Reply(429, {"detail": "slow down"}, {"Retry-After": "17"})
    out = post(orchestrator)
    assert out.kind is OutcomeKind.RATE_LIMITED and out.retry_after == 17.0


def test_503_with_retry_after_date_is_rate_limited(orchestrator):
    when = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=60), usegmt=True)
    orchestrator.behaviour = Reply(503, b"busy", {"Retry-After": when, "Content-Type": "text/plain"})
    out = post(orchestrator)
    assert out.kind is OutcomeKind.RATE_LIMITED
    assert 55 <= out.retry_after <= 61


def test_server_error_500(orchestrator):
    orchestrator.behaviour = Reply(500, {"detail": "storage failure"})
    out = post(orchestrator)
    assert out.kind is OutcomeKind.SERVER_ERROR and out.status_code == 500
    assert "storage failure" in out.error


def test_html_502_is_summarised_not_dumped(orchestrator):
    page = (
        b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>" + b"x" * 5000 + b"</body>"
    )
    orchestrator.behaviour = Reply(502, page, {"Content-Type": "text/html"})
    out = post(orchestrator)
    assert out.kind is OutcomeKind.SERVER_ERROR and out.status_code == 502
    assert "502 Bad Gateway" in out.error and len(out.error) < 300


def test_redirect_is_not_followed_and_named(orchestrator):
    orchestrator.behaviour = Reply(308, b"", {"Location": "https://elsewhere.example/api/v1/heart_beat"})
    out = post(orchestrator)
    assert not out.ok and out.status_code == 308
    assert "https://elsewhere.example/api/v1/heart_beat" in out.error
    assert len(orchestrator.arrivals) == 1


def test_hang_ends_at_the_deadline(orchestrator):
    orchestrator.behaviour = Hang()
    started = time.monotonic()
    out = post(orchestrator, deadline=1.0)
    elapsed = time.monotonic() - started
    assert out.kind is OutcomeKind.NETWORK_ERROR and out.reason is NetworkReason.TIMEOUT
    assert 0.9 <= elapsed < 1.6


def test_a_dripping_reply_cannot_outlast_the_deadline(orchestrator):
    orchestrator.behaviour = Drip(every=0.2, size=1000)  # each byte well inside any read timeout
    started = time.monotonic()
    out = post(orchestrator, deadline=1.0)
    elapsed = time.monotonic() - started
    assert out.reason is NetworkReason.TIMEOUT
    assert elapsed < 1.6


def test_a_20_mb_reply_is_not_read_into_memory(orchestrator):
    orchestrator.behaviour = Huge(20 * 1024 * 1024)
    tracemalloc.start()
    try:
        out = post(orchestrator)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert out.ok  # a 200 is a 200; the flood is cut, not parsed
    assert peak < 2 * 1024 * 1024, peak


def test_connection_refused():
    from tests.support.loopback import refused_url

    poster = BeatPoster(refused_url(), "ua", deadline_s=2)
    out = poster.post(BODY)
    assert out.kind is OutcomeKind.NETWORK_ERROR and out.reason is NetworkReason.REFUSED


@pytest.mark.parametrize("after_headers", [False, True])
def test_reset(orchestrator, after_headers):
    orchestrator.behaviour = Reset(after_headers=after_headers)
    out = post(orchestrator)
    assert out.kind is OutcomeKind.NETWORK_ERROR
    assert out.reason is NetworkReason.RESET


def test_abort_from_another_thread_cuts_a_hanging_request(orchestrator):
    orchestrator.behaviour = Hang()
    poster = BeatPoster(orchestrator.url, "ua", deadline_s=10)
    threading.Thread(target=lambda: orchestrator.wait_for(1) and poster.abort(), daemon=True).start()
    started = time.monotonic()
    out = poster.post(BODY)
    assert out.reason is NetworkReason.CANCELLED
    assert time.monotonic() - started < 1.0


def test_the_connection_is_reused_between_beats(orchestrator):
    poster = BeatPoster(orchestrator.url, "ua", deadline_s=2)
    for _ in range(3):
        assert poster.post(BODY).ok
    poster.close()
    # all three arrivals came over one kept-alive connection: a single client port
    assert len({a.peer_port for a in orchestrator.arrivals}) == 1
    assert len(orchestrator.arrivals) == 3


def test_proxy_variables_are_bypassed_for_loopback(orchestrator, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    assert post(orchestrator).ok


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        ("0", 0.0),
        (" 7 ", 7.0),
        ("", None),
        (None, None),
        ("soon", None),
        ("-5", None),
        ("1.5", None),
        ("99999999999", 99999999999.0),
    ],
)
def test_parse_retry_after_seconds(value, expected):
    assert parse_retry_after(value) == expected


def test_parse_retry_after_http_date_with_fixed_wall_clock():
    now = datetime(2026, 11, 27, 12, 0, 0, tzinfo=timezone.utc).timestamp()
    assert parse_retry_after("Fri, 27 Nov 2026 12:00:30 GMT", lambda: now) == 30.0
    assert parse_retry_after("Fri, 27 Nov 2026 11:00:00 GMT", lambda: now) == 0.0
    assert parse_retry_after("Fri, 99 Nov 2026 11:00:00 GMT", lambda: now) is None


def test_tls_untrusted_certificate_is_a_clear_error_never_a_fallback(tmp_path):
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    import ssl

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(ctx)
    server = Orchestrator(tls=ctx)
    try:
        out = post(server)
        assert out.kind is OutcomeKind.NETWORK_ERROR and out.reason is NetworkReason.TLS
        assert out.needs_attention
        assert "not trusted" in out.error
        assert server.arrivals == []  # nothing was sent over the untrusted connection
    finally:
        server.stop()
