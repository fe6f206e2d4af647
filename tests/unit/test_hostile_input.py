"""Server-fed and user-fed text: every parser ends in a typed outcome, every echoed text is redacted, one
line and bounded. Each crash case here raised before the fix (ValueError, RecursionError,
LocationParseError)."""

import json

import pytest

from polaris_tray.core.config.urls import InvalidServerUrl, is_loopback_host, normalize_server_url
from polaris_tray.core.heartbeat.classify import MAX_RETRY_AFTER_S, classify_reply, parse_retry_after
from polaris_tray.core.heartbeat.poster import BeatPoster
from polaris_tray.core.values.outcome import NetworkReason, Outcome, OutcomeKind
from polaris_tray.core.values.redact import clean
from tests.support.hostile import HostileServer, reply

MINER = "3f2b8c1e-9a4d-4e7b-b5c6-0d1e2f3a4b5c"  # 36 characters, like a real id
TAIL = MINER[4:]  # everything the mask does not show


def leaks(text: str) -> bool:
    """Any 6 consecutive characters of the hidden part of the id (the mask shows the first 4 only)."""
    return any(TAIL[i : i + 6] in text for i in range(len(TAIL) - 5))


def post(url, deadline=3.0):
    poster = BeatPoster(url, "ua", deadline_s=deadline)
    try:
        return poster.post({"metrics": {"miner_id": MINER}}, secrets=(MINER,))
    finally:
        poster.close()


# --- Retry-After


@pytest.mark.parametrize(
    "value", ["²", "١٢", "1" * 5000, "9" * 4301, "Fri, 31 Dec 99999 23:59:59 GMT", "\x00"]
)
def test_retry_after_never_raises(value):
    result = parse_retry_after(value)
    assert result is None or 0 <= result <= MAX_RETRY_AFTER_S


def test_a_very_long_retry_after_means_wait_long():
    assert parse_retry_after("1" * 5000) == MAX_RETRY_AFTER_S
    assert parse_retry_after("²") is None


@pytest.mark.parametrize("value", ["²", "1" * 5000])
def test_a_429_with_a_hostile_retry_after_is_rate_limited(value):
    with HostileServer(reply(429, b"{}", {"Retry-After": value})) as server:
        out = post(server.url)
    assert out.kind is OutcomeKind.RATE_LIMITED


# --- JSON of any depth


def deep(n: int) -> bytes:
    return b"[" * n + b"]" * n


def test_a_30k_deep_200_reply_is_accepted_without_last_seen():
    """Chosen: a 2xx is accepted whatever its body (the status is the contract); the body adds nothing."""
    out = classify_reply(200, {}, deep(30000), truncated=False, latency=1.0, secrets=())
    assert out.kind is OutcomeKind.ACCEPTED and out.last_seen is None


def test_a_30k_deep_422_reply_is_rejected_with_a_bounded_excerpt():
    out = classify_reply(422, {}, deep(30000), truncated=False, latency=1.0, secrets=())
    assert out.kind is OutcomeKind.REJECTED and len(out.error) <= 300


def test_nested_fields_are_never_turned_into_text():
    body = {"last_seen": json.loads(deep(500)), "detail": [{"loc": json.loads(deep(500)), "msg": {"a": 1}}]}
    data = json.dumps(body).encode()
    assert classify_reply(200, {}, data, truncated=False, latency=1, secrets=()).ok
    out = classify_reply(422, {}, data, truncated=False, latency=1, secrets=())
    assert out.kind is OutcomeKind.REJECTED


def test_a_30k_deep_reply_over_the_wire():
    with HostileServer(reply(200, deep(30000), {"Content-Type": "application/json"})) as server:
        assert post(server.url).ok


# --- host names


@pytest.mark.parametrize("url", ["https://a..b/", f"https://{'a' * 64}.example.com/", "https://-x.com"])
def test_unusable_host_names_are_refused_with_a_message(url):
    with pytest.raises(InvalidServerUrl, match="host name"):
        normalize_server_url(url)


@pytest.mark.parametrize("url", ["https://a..b/api", f"https://{'a' * 64}.example.com/api"])
def test_a_poster_given_an_unusable_host_returns_a_config_error(url):
    """A URL that skipped validation (an old settings file) ends as a typed outcome, not an exception."""
    out = post(url)
    assert out.kind is OutcomeKind.CONFIG_ERROR and "host name" in out.error


# --- loopback


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST", "127.0.0.1", "127.8.9.10", "::1", "[::1]"])
def test_loopback_is_literal(host):
    assert is_loopback_host(host)


@pytest.mark.parametrize("host", ["x.localhost", "evil.localhost", "localhost.example.com", "10.0.0.1"])
def test_names_under_localhost_are_not_loopback(host):
    assert not is_loopback_host(host)


def test_plain_http_to_a_name_under_localhost_is_refused():
    with pytest.raises(InvalidServerUrl, match="https"):
        normalize_server_url("http://anything.localhost:8080/api/v1")


# --- redaction, one line, bounded


@pytest.mark.parametrize("offset", range(200, 310, 3))
def test_an_id_straddling_any_cut_never_leaks(offset):
    """Before: cut at 240 first, then redacted: an id across the cut leaked 35 of its 36 characters."""
    body = json.dumps({"detail": "x" * offset + MINER + " y" * 200}).encode()
    for code in (404, 422, 500):
        out = classify_reply(code, {}, body, truncated=False, latency=1, secrets=(MINER,))
        assert not leaks(out.error), (code, offset, out.error)
    text = b"z" * offset + MINER.encode() + b" tail" * 50
    out = classify_reply(
        500, {"Content-Type": "text/plain"}, text, truncated=False, latency=1, secrets=(MINER,)
    )
    assert not leaks(out.error)


def test_last_seen_and_location_are_redacted():
    data = json.dumps({"last_seen": f"{MINER} at noon"}).encode()
    out = classify_reply(200, {}, data, truncated=False, latency=1, secrets=(MINER,))
    assert not leaks(out.last_seen) and not leaks(json.dumps(out.as_json()))
    out = classify_reply(
        302, {"Location": "/x" * 150 + MINER}, b"", truncated=False, latency=1, secrets=(MINER,)
    )
    assert not leaks(out.error)


FORGED = (
    "db down\n2026-11-28 04:00:00 INFO polaris_tray State retrying -> online\x1b[2J\x1b]0;pwned\x07\r\u2028x"
)


@pytest.mark.parametrize("code", [404, 422, 500, 502])
def test_server_text_cannot_forge_a_line_or_drive_the_terminal(code):
    for body in (json.dumps({"detail": FORGED}).encode(), FORGED.encode()):
        out = classify_reply(code, {}, body, truncated=False, latency=1, secrets=())
        assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F or c in "\u2028\u2029" for c in out.error)


def test_every_error_is_bounded():
    huge = json.dumps({"detail": "x" * 60000}).encode()
    for code in (404, 422, 500):
        out = classify_reply(code, {}, huge, truncated=False, latency=1, secrets=())
        assert len(out.error) <= 300
    assert len(Outcome(OutcomeKind.SERVER_ERROR, error="y" * 10000).error) <= 300
    assert "\n" not in Outcome(OutcomeKind.SERVER_ERROR, error="a\nb").error


def test_clean_redacts_before_it_shortens():
    text = "x" * 230 + MINER
    assert not leaks(clean(text, (MINER,), limit=240))
    assert clean("a\x1b[31mb\nc", ()) == "a [31mb c"


def test_the_404_body_echoing_the_id_is_masked_over_the_wire():
    with HostileServer(reply(404, json.dumps({"detail": f"Miner {MINER} not found"}).encode())) as server:
        out = post(server.url)
    assert out.kind is OutcomeKind.NOT_REGISTERED and not leaks(out.error)
    assert out.reason is not NetworkReason.OTHER
