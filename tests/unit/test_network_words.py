"""The words and the trust of a heartbeat: which CAs are trusted (the OS's store, the variables, in
order), and what a user reads for a plain-HTTP port, a refused port, a 103 Early Hints, a wrong URL path
or an unknown miner; against real loopback servers."""

import socket
import threading

import pytest

from polaris_tray.core.heartbeat.poster import BeatPoster
from polaris_tray.core.values.outcome import NetworkReason, OutcomeKind
from tests.support.heartbeat_post import BODY, MINER, timed_post
from tests.support.hostile import OK, HostileServer, Raw, ok_reply
from tests.support.loopback import refused_port
from tests.support.orchestrator import Reply

# --- trust -------------------------------------------------------------------------------------------


def test_trust_order_and_the_platform_default(named_tls, tmp_path):
    import truststore

    from polaris_tray.core.heartbeat.trust import TrustConfigError, trust

    assert trust({}).source == "the system trust store"
    assert isinstance(trust({}).context, truststore.SSLContext)
    ca = named_tls[1]
    assert trust({"SSL_CERT_FILE": ca}).source == f"SSL_CERT_FILE={ca}"
    both = {"REQUESTS_CA_BUNDLE": ca, "SSL_CERT_FILE": "/nonexistent.pem"}
    assert trust(both).source == f"REQUESTS_CA_BUNDLE={ca}"  # the first in the order wins, alone
    with pytest.raises(TrustConfigError, match=r"REQUESTS_CA_BUNDLE names /nonexistent\.pem"):
        trust({"REQUESTS_CA_BUNDLE": "/nonexistent.pem"})
    empty = tmp_path / "empty.pem"
    empty.write_text("not a certificate")
    with pytest.raises(TrustConfigError, match="holds no usable certificate"):
        trust({"SSL_CERT_FILE": str(empty)})


@pytest.mark.parametrize("var", ["SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE"])
def test_each_ca_variable_is_honoured(named_tls, clean_env, tmp_path, var):
    """Before: SSL_CERT_FILE and SSL_CERT_DIR were ignored; only REQUESTS_CA_BUNDLE helped."""
    import shutil
    import subprocess

    path = named_tls[1]
    if var == "SSL_CERT_DIR":
        shutil.copy(path, tmp_path / "ca.pem")
        subprocess.run(["openssl", "rehash", str(tmp_path)], check=True, capture_output=True)
        path = str(tmp_path)
    clean_env.setenv(var, path)
    with HostileServer(OK, tls=named_tls[0]) as server:
        out, _ = timed_post(BeatPoster(server.url, "ua"))
    assert out.ok, out


def test_verification_stays_on_with_the_system_store(named_tls, clean_env):
    with HostileServer(OK, tls=named_tls[0]) as server:
        out, _ = timed_post(BeatPoster(server.url, "ua"))
    assert out.reason is NetworkReason.TLS and out.needs_attention
    assert out.error.startswith("TLS: the server's certificate is not trusted")


def test_a_missing_ca_file_is_a_configuration_error(clean_env):
    clean_env.setenv("REQUESTS_CA_BUNDLE", "/nonexistent/ca.pem")
    out, _ = timed_post(BeatPoster("https://127.0.0.1:9/api/v1", "ua"))
    assert out.kind is OutcomeKind.CONFIG_ERROR
    assert "REQUESTS_CA_BUNDLE names /nonexistent/ca.pem" in out.error


# --- words -------------------------------------------------------------------------------------------


def test_https_to_a_plain_http_port_says_so(clean_env):
    """Before: "TrackedHTTPSConnectionPool(...) Max retries exceeded ... WRONG_VERSION_NUMBER"."""
    with socket.create_server(("127.0.0.1", 0)) as plain:

        def answer_like_a_plain_http_server():
            conn, _ = plain.accept()
            with conn:
                conn.recv(4096)  # a TLS ClientHello: garbage to an HTTP server
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

        threading.Thread(target=answer_like_a_plain_http_server, daemon=True).start()
        port = plain.getsockname()[1]
        out, _ = timed_post(BeatPoster(f"https://127.0.0.1:{port}/api/v1", "ua", deadline_s=3.0))
    assert out.error == "This server does not speak HTTPS — did you mean http://?", out
    assert out.needs_attention
    assert "ConnectionPool" not in out.error and "Max retries" not in out.error


def test_refused_names_the_address(clean_env):
    port = refused_port()
    out, _ = timed_post(BeatPoster(f"http://127.0.0.1:{port}/api/v1", "ua"))
    assert out.reason is NetworkReason.REFUSED
    assert out.error == f"Could not connect to 127.0.0.1:{port}: connection refused."


def test_early_hints_before_the_reply_is_not_a_failure(clean_env):
    """Before: http.client skips only 100 Continue; a 103 was taken as the reply (a failure)."""
    hints = b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
    with HostileServer(Raw(hints + hints + ok_reply(close=True))) as server:
        out, _ = timed_post(BeatPoster(server.url, "ua"))
    assert out.ok and out.status_code == 200, out


def test_a_wrong_path_and_an_unknown_miner_read_differently(orchestrator):
    orchestrator.behaviour = Reply(404, {"detail": "Not Found"})
    wrong, _ = timed_post(BeatPoster(orchestrator.url.removesuffix("/v1"), "ua"))
    assert wrong.kind is OutcomeKind.CONFIG_ERROR and wrong.needs_attention
    assert wrong.error.startswith("Check the server URL: it should end in /api/v1")
    # the path already ends in /api/v1 (walk: another server on that port): the host and port are named
    other, _ = timed_post(BeatPoster(orchestrator.url, "ua"))
    assert other.kind is OutcomeKind.CONFIG_ERROR and "should end in" not in other.error
    assert other.error.startswith("Check the server URL: its path is right")
    assert "host and port" in other.error
    orchestrator.behaviour = Reply(404, {"detail": f"Miner {MINER} not found"})
    unknown, _ = timed_post(BeatPoster(orchestrator.url, "ua"))
    assert unknown.kind is OutcomeKind.NOT_REGISTERED
    assert unknown.error.startswith(
        "Miner mine… is not registered with this orchestrator: run `polaris register`"
    )
    assert MINER not in unknown.error


def test_payload_address_needs_no_name_lookup(monkeypatch):
    """Before: the payload's routed IP looked the server's name up before the deadline started."""
    from polaris_tray.core.heartbeat import metrics

    def no_lookup(*args, **kwargs):
        raise AssertionError("a name lookup on the beat's path")

    monkeypatch.setattr(socket, "getaddrinfo", no_lookup)
    assert metrics.routed_ip_address("never-looked-up.test") is None
    assert metrics.routed_ip_address("127.0.0.1") == "127.0.0.1"
    with HostileServer(OK) as server:
        poster = BeatPoster(server.url.replace("127.0.0.1", "localhost"), "ua")
        monkeypatch.undo()
        assert poster.post(BODY).ok
        poster.close()
    monkeypatch.setattr(socket, "getaddrinfo", no_lookup)
    assert metrics.routed_ip_address("localhost") == "127.0.0.1"  # the connection's own address


def test_trust_is_built_once_per_variables_and_files(named_tls, tmp_path):
    import os
    import shutil

    from polaris_tray.core.heartbeat.trust import trust

    bundle = tmp_path / "bundle.pem"
    shutil.copy(named_tls[1], bundle)
    env = {"REQUESTS_CA_BUNDLE": str(bundle)}
    first = trust(env)
    assert trust(dict(env)) is first  # a bundle is loaded once, not for every poster
    stat = bundle.stat()
    os.utime(bundle, (stat.st_atime, stat.st_mtime + 10))  # the administrator replaced the file
    assert trust(env) is not first
    assert trust({"SSL_CERT_FILE": str(bundle)}) is not first


def test_proxy_credentials_are_scrubbed_in_every_form():
    from polaris_tray.core.heartbeat.proxy import Proxy, scrub, shown_address

    proxy = Proxy(
        "http://al%40ice:p%3Ass@[2001:db8::1]:3128",
        shown_address("http://al%40ice:p%3Ass@[2001:db8::1]:3128"),
    )
    assert proxy.shown == "[2001:db8::1]:3128"
    text = "ProxyError('http://al%40ice:p%3Ass@[2001:db8::1]:3128 said p:ss and p%3Ass and al%40ice:p%3Ass')"
    cleaned = scrub(text, proxy)
    assert "p%3Ass" not in cleaned and "p:ss" not in cleaned and "al%40ice" not in cleaned, cleaned
    assert scrub("see http://bob:secret@other.example:8080/", None) == "see http://***@other.example:8080/"
