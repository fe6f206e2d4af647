"""Every network phase under the one deadline, in-process against real loopback sockets: the name lookup
(a stuck resolver stands in for a silent DNS server: the system tests use a real one in a private
network namespace), Happy Eyeballs, the proxy's CONNECT and tunnel, TLS trust, and the words for each."""

import socket
import threading
import time

import pytest

from polaris_tray.core.heartbeat import transport
from polaris_tray.core.heartbeat.connect import ConnectCancelled, connect_first, interleave
from polaris_tray.core.heartbeat.poster import BeatPoster
from polaris_tray.core.platform.resolve import RESOLVER, ResolveCancelled, Resolver, ResolveTimeout
from polaris_tray.core.values.outcome import NetworkReason, OutcomeKind
from tests.support.connect_proxy import (
    DRIP_CONNECT,
    DRIP_TUNNEL,
    FORBIDDEN,
    NEEDS_AUTH,
    PASS,
    SILENT,
    ConnectProxy,
)
from tests.support.heartbeat_post import NAME, timed_post
from tests.support.hostile import OK, HostileServer
from tests.support.loopback import refused_port

# --- the name lookup ---------------------------------------------------------------------------------


class StuckResolver:
    """getaddrinfo that hangs until released, as glibc does against a silent nameserver."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.calls = 0

    def __call__(self, host, port, *args):
        self.calls += 1
        self.release.wait(30)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 0))]


@pytest.fixture
def stuck_dns(monkeypatch):
    stuck = StuckResolver()
    monkeypatch.setattr(RESOLVER, "_getaddrinfo", stuck)
    yield stuck
    stuck.release.set()


def test_lookups_of_one_name_are_single_flight():
    stuck = StuckResolver()
    resolver = Resolver(stuck)
    results = []
    threads = [
        threading.Thread(target=lambda p=p: results.append(resolver.resolve("a.test", p, timeout=5)))
        for p in (80, 443)
    ]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 5
    while resolver.waiting("a.test") < 2 and time.monotonic() < deadline:
        time.sleep(0.005)  # both attempts are waiting on the one lookup
    stuck.release.set()
    for t in threads:
        t.join(5)
    assert stuck.calls == 1 and resolver.started == 1
    assert sorted(r[0][4][1] for r in results) == [80, 443]  # each waiter gets its own port


def test_a_lookup_waits_at_most_its_time_then_a_later_one_joins_it():
    stuck = StuckResolver()
    resolver = Resolver(stuck)
    started = time.monotonic()
    with pytest.raises(ResolveTimeout, match=r"Cannot resolve a\.test \(DNS did not answer in 0\.3 s\)"):
        resolver.resolve("a.test", 443, timeout=0.3)
    assert time.monotonic() - started < 0.8
    with pytest.raises(ResolveTimeout):
        resolver.resolve("a.test", 443, timeout=0.1)
    assert resolver.started == 1 and resolver.inflight() == 1  # joined, not repeated
    stuck.release.set()


def test_a_cut_ends_the_wait_for_a_lookup_at_once():
    resolver = Resolver(StuckResolver())
    cutter = transport.SocketCutter()
    cutter.begin()
    threading.Timer(0.2, cutter.cut, kwargs={"timed_out": False}).start()
    started = time.monotonic()
    with pytest.raises(ResolveCancelled):
        resolver.resolve("a.test", 443, timeout=30, cancel=cutter)
    assert time.monotonic() - started < 0.7


def test_a_silent_resolver_ends_at_the_deadline_naming_dns(stuck_dns, clean_env):
    """Before: the request's lookup ran outside any cut; a silent nameserver held --once for 20-80 s."""
    out, elapsed = timed_post(BeatPoster(f"https://{NAME}:443/api/v1", "ua", deadline_s=1.0))
    assert out.reason is NetworkReason.DNS, out
    assert out.error == f"Cannot resolve {NAME} (DNS did not answer in 1 s)."
    assert elapsed < 1.5


def test_stop_during_a_lookup_cancels_within_milliseconds(stuck_dns, clean_env):
    poster = BeatPoster(f"https://{NAME}:443/api/v1", "ua", deadline_s=30.0)
    threading.Timer(0.3, poster.abort).start()
    out, elapsed = timed_post(poster)
    assert out.reason is NetworkReason.CANCELLED
    assert elapsed < 0.8


def test_no_such_name_says_so(clean_env):
    out, _ = timed_post(BeatPoster("https://no-such-host.invalid/api/v1", "ua", deadline_s=5.0))
    assert out.reason is NetworkReason.DNS
    assert out.error.startswith("Cannot resolve the server name no-such-host.invalid"), out.error


# --- Happy Eyeballs ----------------------------------------------------------------------------------


@pytest.fixture
def black_hole():
    """An address whose connect hangs (a listener with a full backlog), as a dropped SYN does."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(listener.getsockname())
        fillers.append(filler)
    probe = socket.socket()
    probe.settimeout(0.3)
    try:
        probe.connect(listener.getsockname())
        pytest.skip("this kernel completes connects to a full backlog")
    except TimeoutError:
        pass
    finally:
        probe.close()
    yield listener.getsockname()
    for sock in [*fillers, listener]:
        sock.close()


def _info(family, address):
    return (family, socket.SOCK_STREAM, 6, "", address)


def test_interleave_alternates_families_from_the_first_choice():
    v6 = [_info(socket.AF_INET6, (f"2001:db8::{i}", 1, 0, 0)) for i in (1, 2, 3)]
    v4 = [_info(socket.AF_INET, (f"192.0.2.{i}", 1)) for i in (1, 2)]
    order = [i[4][0] for i in interleave([*v6, *v4])]
    assert order == ["2001:db8::1", "192.0.2.1", "2001:db8::2", "192.0.2.2", "2001:db8::3"]


def test_a_black_holed_first_address_costs_a_quarter_second(black_hole):
    """Before: addresses were tried in turn, and a dead first one ate the whole deadline."""
    with socket.create_server(("127.0.0.2", 0)) as live:
        adopted = []
        started = time.monotonic()
        sock = connect_first(
            [_info(socket.AF_INET, black_hole), _info(socket.AF_INET, live.getsockname())],
            timeout=10,
            adopt=adopted.append,
        )
        elapsed = time.monotonic() - started
        try:
            assert sock.getpeername() == live.getsockname()
            assert 0.2 <= elapsed < 1.0, elapsed
            assert len(adopted) == 2 and adopted[0].fileno() == -1  # the loser was closed
            assert sock.gettimeout() == 10
        finally:
            sock.close()


def test_a_refused_address_moves_on_at_once(black_hole):
    with socket.create_server(("127.0.0.1", 0)) as live:
        infos = [
            _info(socket.AF_INET, ("127.0.0.1", refused_port())),
            _info(socket.AF_INET, live.getsockname()),
        ]
        started = time.monotonic()
        with connect_first(infos, timeout=5, delay=5) as sock:
            assert sock.getpeername() == live.getsockname()
        assert time.monotonic() - started < 1.0
    with pytest.raises(ConnectionRefusedError):
        connect_first([_info(socket.AF_INET, ("127.0.0.1", refused_port()))], timeout=5)


def test_a_connect_that_never_completes_ends_at_the_deadline_naming_the_address(black_hole, clean_env):
    host, port = black_hole
    out, elapsed = timed_post(BeatPoster(f"http://{host}:{port}/api/v1", "ua", deadline_s=1.0))
    assert out.reason is NetworkReason.TIMEOUT, out
    assert out.error == f"Could not connect to {host}:{port} within 1 s (no answer to the connection)."
    assert elapsed < 1.5


def test_a_cut_ends_the_race(black_hole):
    cutter = transport.SocketCutter()
    cutter.begin()
    threading.Timer(0.3, cutter.cut, kwargs={"timed_out": False}).start()
    started = time.monotonic()
    with pytest.raises(ConnectCancelled):
        connect_first([_info(socket.AF_INET, black_hole)], timeout=30, adopt=cutter.adopt, cancel=cutter)
    assert time.monotonic() - started < 0.8


# --- proxies -----------------------------------------------------------------------------------------


@pytest.fixture
def via_proxy(named_tls, clean_env):
    """A TLS server known as NAME, reached only through a CONNECT proxy of the given shape."""
    made = []

    def make(shape, every=0.2, credentials=None, userinfo=""):
        server = HostileServer(OK, tls=named_tls[0])
        port = int(server.url.split(":")[2].split("/")[0])
        proxy = ConnectProxy(shape, upstream=("127.0.0.1", port), every=every, credentials=credentials)
        made.extend([server, proxy])
        clean_env.setenv("HTTPS_PROXY", proxy.url(userinfo))
        clean_env.setenv("REQUESTS_CA_BUNDLE", named_tls[1])
        return BeatPoster(f"https://{NAME}:{port}/api/v1", "ua", deadline_s=1.0), proxy

    yield make
    for thing in made:
        thing.stop()


def test_through_a_proxy_that_passes(via_proxy):
    poster, proxy = via_proxy(PASS)
    out, _ = timed_post(poster)
    assert out.ok, out
    assert proxy.seen[0].target.startswith(f"{NAME}:")


@pytest.mark.parametrize("shape", [SILENT, DRIP_CONNECT])
def test_a_proxy_that_does_not_answer_ends_at_the_deadline(via_proxy, shape):
    """Before: requests' ProxyManager was not tracked; a dripped CONNECT reply ran --once forever."""
    poster, proxy = via_proxy(shape)
    out, elapsed = timed_post(poster)
    assert out.reason is NetworkReason.PROXY, out
    assert out.error == f"The proxy {proxy.address} did not answer within 1 s."
    assert elapsed < 1.5


def test_a_dripping_tunnel_ends_at_the_deadline_naming_tls_and_the_proxy(via_proxy):
    poster, proxy = via_proxy(DRIP_TUNNEL)
    out, elapsed = timed_post(poster)
    assert out.reason is NetworkReason.TIMEOUT, out
    assert out.error == f"TLS: no handshake with {NAME} within 1 s (through the proxy {proxy.address})."
    assert elapsed < 1.5


def test_407_needs_the_user_and_never_shows_credentials(via_proxy, caplog):
    caplog.set_level("DEBUG")
    poster, proxy = via_proxy(NEEDS_AUTH, credentials="alice:right", userinfo="alice:s3cret-pw")
    out, _ = timed_post(poster)
    assert out.reason is NetworkReason.PROXY_AUTH and out.needs_attention, out
    assert out.error.startswith(f"The proxy {proxy.address} needs credentials (HTTP 407)")
    assert "s3cret-pw" not in out.error and "alice" not in out.error
    assert "s3cret-pw" not in caplog.text
    assert proxy.seen[0].authorization is not None  # the credentials went to the proxy, and only there


def test_the_right_credentials_pass(via_proxy):
    poster, _proxy = via_proxy(NEEDS_AUTH, credentials="alice:s3cret-pw", userinfo="alice:s3cret-pw")
    out, _ = timed_post(poster)
    assert out.ok, out


def test_a_silent_proxy_with_credentials_never_shows_them(via_proxy, caplog):
    caplog.set_level("DEBUG")
    poster, _proxy = via_proxy(SILENT, userinfo="bob:hunter2-pw")
    out, _ = timed_post(poster)
    assert "hunter2-pw" not in out.error and "hunter2-pw" not in caplog.text


@pytest.mark.parametrize(
    ("var", "url"),
    [("ALL_PROXY", "socks5h://carol:pw-socks@127.0.0.1:1080"), ("HTTPS_PROXY", "socks5://127.0.0.1:1080")],
)
def test_socks_is_refused_up_front_saying_what_to_set(clean_env, var, url):
    clean_env.setenv(var, url)
    out, elapsed = timed_post(BeatPoster("https://orch.test/api/v1", "ua"))
    assert out.kind is OutcomeKind.CONFIG_ERROR, out
    assert "SOCKS proxies are not supported" in out.error and "HTTPS_PROXY" in out.error
    assert var in out.error
    assert "pw-socks" not in out.error and "carol" not in out.error
    assert elapsed < 0.5


def test_no_proxy_for_a_server_on_this_machine(clean_env):
    clean_env.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    clean_env.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    with HostileServer(OK) as server:
        out, _ = timed_post(BeatPoster(server.url, "ua"))
    assert out.ok


def test_a_proxy_that_refuses_the_connection_or_the_tunnel(via_proxy, clean_env):
    poster, proxy = via_proxy(FORBIDDEN)
    out, _ = timed_post(poster)
    assert out.reason is NetworkReason.PROXY and not out.needs_attention, out
    assert out.error.startswith(f"The proxy {proxy.address} refused the tunnel to {NAME} (HTTP 403")
    port = refused_port()
    clean_env.setenv("HTTPS_PROXY", f"http://127.0.0.1:{port}")
    out, _ = timed_post(BeatPoster(f"https://{NAME}/api/v1", "ua"))
    assert out.reason is NetworkReason.PROXY, out
    assert out.error == f"The proxy 127.0.0.1:{port} refused the connection."
