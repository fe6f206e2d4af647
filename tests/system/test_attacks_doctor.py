"""Attacks on --doctor by a hostile server: the doctor must finish with a sentence for
every link, never a traceback, and never tell the orchestrator something untrue."""

from __future__ import annotations

import pytest

from tests.support.app import app_env, run_app
from tests.support.hostile import HEADER_DRIP, HostileServer, Raw, reply

MINER = "attack-miner-42"

# Dates that email.utils parses into numbers datetime cannot hold (OverflowError, not ValueError).
HOSTILE_DATES = (
    "Mon, 01 Jan 99999999999999999999 00:00:00 GMT",
    "Mon, 01 Jan 2020 99999999999999999999:00:00 GMT",
    "Mon, 01 Jan 2020 00:00:00 +99999999999999999999",
)


@pytest.mark.parametrize("date", HOSTILE_DATES)
def test_a_date_header_too_big_for_a_datetime_is_unreadable_not_a_crash(home, date):
    with HostileServer(reply(405, b'{"detail":"Method Not Allowed"}', {"Date": date})) as server:
        result = run_app(
            ["--doctor", "--no-send", "--server-url", server.url], app_env(home, miner_id=MINER), timeout=60
        )
    assert "Traceback" not in result.stderr, result.stderr
    assert "Clock: skipped: the server's Date header could not be read" in result.stdout, result.stdout
    assert "HTTP:" in result.stdout and "GPU" in result.stdout  # the walk went on to its last line
    assert MINER not in result.stdout + result.stderr


def test_a_reason_phrase_with_terminal_escapes_is_not_printed_raw(home):
    """The status line's reason is the server's text: escapes in it would drive the user's terminal."""
    hostile = b"\x1b]0;owned\x07\x1b[2J\x1b[31m" + b"x" * 9000
    raw = b"HTTP/1.1 500 " + hostile + b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    with HostileServer(Raw(raw)) as server:
        result = run_app(
            ["--doctor", "--no-send", "--server-url", server.url], app_env(home, miner_id=MINER), timeout=60
        )
    http = next(line for line in result.stdout.splitlines() if line[2:].startswith("HTTP:"))
    assert http.startswith("✘") and "HTTP 500" in http, result.stdout
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout, repr(http[:200])
    assert len(http) < 400, len(http)


@pytest.mark.parametrize(
    "shape",
    [
        HEADER_DRIP,  # the headers one byte at a time, for ever
        Raw(b"HTTP/1.1 405 X\r\nDate: " + b"9" * 5_000_000 + b"\r\n\r\n"),  # a 5 MB header line
        Raw(b"HTTP/1.1 404 X\r\nContent-Length: 50000000\r\n\r\n" + b"{" * 20_000_000),  # a flood body
    ],
    ids=["header-drip", "huge-header", "flood-body"],
)
def test_a_flooding_or_dripping_server_cannot_hold_the_doctor(home, shape):
    import time

    with HostileServer(shape, every=0.2) as server:
        started = time.monotonic()
        result = run_app(
            ["--doctor", "--no-send", "--server-url", server.url], app_env(home, miner_id=MINER), timeout=60
        )
        took = time.monotonic() - started
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert took < 20, took  # the walk's budget is 13 s
    http = next(line for line in result.stdout.splitlines() if line[2:].startswith("HTTP:"))
    assert http.startswith("✘") or shape is not HEADER_DRIP, result.stdout  # a 405 read from 16 KB: fine
    assert "GPU readers" in result.stdout and len(result.stdout) < 5000, len(result.stdout)


def test_names_in_a_trusted_certificate_reach_the_terminal_cleaned(home, tmp_path):
    """A TLS-inspecting proxy's CA (trusted by the user) names itself as it likes: its names are shown."""
    import ssl

    trustme = pytest.importorskip("trustme")
    hostile = "\x1b]0;owned\x07Evil\x1b[2J" + "E" * 40
    authority = trustme.CA(organization_name=hostile)
    ca_path = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_path))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1", common_name=hostile).configure_cert(context)
    with HostileServer(reply(405, b"{}"), tls=context) as server:
        env = app_env(home, miner_id=MINER, REQUESTS_CA_BUNDLE=str(ca_path))
        result = run_app(["--doctor", "--no-send", "--server-url", server.url], env, timeout=60)
    tls = next(line for line in result.stdout.splitlines() if line[2:].startswith("TLS and trust:"))
    assert tls.startswith("✔") and "Evil" in tls, result.stdout
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout, repr(tls[:300])
    assert len(tls) < 600, len(tls)
