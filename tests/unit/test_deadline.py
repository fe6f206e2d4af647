"""The deadline, abort() and close() against every slow-reply shape, over http and TLS, in-process.

Each shape drips one byte every 0.2 s, well inside any read timeout, so only the deadline or the cut can
end the request. Before the fix, `close_drip` and `http10_drip` never ended and `header_drip` came back
as accepted.
"""

import socket
import threading
import time

import pytest

from polaris_tray.core.heartbeat.poster import BeatPoster
from polaris_tray.core.heartbeat.transport import DEADLINE_WATCH
from polaris_tray.core.values.outcome import NetworkReason, OutcomeKind
from tests.support.hostile import OK, SLOW_SHAPES, HostileServer

BODY = {"metrics": {"miner_id": "miner-abcdef123456"}}


@pytest.fixture(params=["http", "https"])
def server_for(request, tls, monkeypatch):
    servers = []

    def make(shape, every=0.2):
        ctx = None
        if request.param == "https":
            ctx = tls[0]
            monkeypatch.setenv("REQUESTS_CA_BUNDLE", tls[1])
        server = HostileServer(shape, every=every, tls=ctx)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


def timed_post(poster):
    started = time.monotonic()
    out = poster.post(BODY)
    return out, time.monotonic() - started


@pytest.mark.parametrize("shape", SLOW_SHAPES)
def test_every_slow_shape_ends_at_the_deadline_as_a_timeout(server_for, shape):
    server = server_for(shape)
    poster = BeatPoster(server.url, "ua", deadline_s=1.0)
    try:
        out, elapsed = timed_post(poster)
    finally:
        poster.close()
    assert out.kind is OutcomeKind.NETWORK_ERROR and out.reason is NetworkReason.TIMEOUT, out
    assert not out.ok
    print(f"{shape}: ended after {elapsed:.3f} s (deadline 1 s)")
    assert elapsed < 1.0 + 0.5


@pytest.mark.parametrize("shape", SLOW_SHAPES)
def test_abort_cuts_every_slow_shape(server_for, shape):
    server = server_for(shape)
    poster = BeatPoster(server.url, "ua", deadline_s=30.0)

    def abort_once_the_reply_has_begun():
        if server.wait_for(1):
            time.sleep(0.5)  # let the reply start dripping: the cut must reach the socket being read
            poster.abort()

    threading.Thread(target=abort_once_the_reply_has_begun, daemon=True).start()
    try:
        out, elapsed = timed_post(poster)
        assert out.reason is NetworkReason.CANCELLED, out
        assert elapsed < 0.5 + 0.5
        # abort() is for the request under way: the next one goes out
        server.shape = OK
        assert poster.post(BODY).ok
    finally:
        poster.close()


@pytest.mark.parametrize("shape", SLOW_SHAPES)
def test_close_from_another_thread_cuts_and_nothing_follows(server_for, shape):
    server = server_for(shape)
    poster = BeatPoster(server.url, "ua", deadline_s=30.0)
    threading.Thread(target=lambda: server.wait_for(1) and poster.close(), daemon=True).start()
    out, elapsed = timed_post(poster)
    assert out.reason is NetworkReason.CANCELLED
    assert elapsed < 1.0
    server.shape = OK
    again = poster.post(BODY)
    assert again.reason is NetworkReason.CANCELLED
    assert len(server.arrivals) == 1  # nothing was sent after close()


def test_close_before_post_sends_nothing():
    with HostileServer(OK) as server:
        poster = BeatPoster(server.url, "ua")
        poster.close()
        assert poster.post(BODY).reason is NetworkReason.CANCELLED
        assert server.arrivals == []


def test_abort_racing_the_start_of_a_post_never_lets_it_hang():
    """abort() at any moment around post()'s start: the post either went before the abort (a fast
    OK) or is cancelled; never a request that escapes the abort and hangs to the deadline."""
    with HostileServer(SLOW_SHAPES[1], every=0.2) as server:
        poster = BeatPoster(server.url, "ua", deadline_s=2.0)
        try:
            for delay in (0.0, 0.0005, 0.001, 0.002, 0.005):
                timer = threading.Timer(delay, poster.abort)
                timer.start()
                out, elapsed = timed_post(poster)
                timer.join()
                if elapsed > 1.0:  # the abort came before post() began: it must not apply
                    assert out.reason is NetworkReason.TIMEOUT
                else:
                    assert out.reason is NetworkReason.CANCELLED
        finally:
            poster.close()


def _deadline_watches() -> int:
    return sum(t.name == "heartbeat-deadline" for t in threading.enumerate())


def test_posters_leave_no_thread_behind():
    """Before: every poster started a deadline thread that never ended (50 posters: +50 threads)."""
    with HostileServer(OK) as server:
        DEADLINE_WATCH.join(5)
        before = set(threading.enumerate())
        for _ in range(100):
            poster = BeatPoster(server.url, "ua", deadline_s=2.0)
            assert poster.post(BODY).ok
            poster.close()
        DEADLINE_WATCH.join(5)
        server.join_handlers()  # the server's side of the closed connections (not the poster's) ends too
        # threads of earlier tests may end meanwhile: what counts is that none was added
        added = [t.name for t in set(threading.enumerate()) - before]
        print(f"threads: {len(before)} before, added after 100 posters: {added}")
        assert added == []
        assert _deadline_watches() == 0


def test_many_open_posters_share_one_deadline_watch():
    with HostileServer(OK) as server:
        posters = [BeatPoster(server.url, "ua") for _ in range(20)]
        try:
            assert all(c.post(BODY).ok for c in posters[:3])
            assert _deadline_watches() == 1
        finally:
            for poster in posters:
                poster.close()
        DEADLINE_WATCH.join(5)
        assert _deadline_watches() == 0


def test_a_forgotten_poster_releases_the_deadline_watch_when_collected():
    import gc

    with HostileServer(OK) as server:
        poster = BeatPoster(server.url, "ua")
        assert poster.post(BODY).ok
        del poster
        gc.collect()
        DEADLINE_WATCH.join(5)
        assert _deadline_watches() == 0


def test_the_deadline_still_holds_when_other_posters_come_and_go():
    """One DeadlineWatch for all posters: closing another poster must not disarm this one's deadline."""
    with HostileServer(SLOW_SHAPES[1], every=0.2) as slow, HostileServer(OK) as fine:
        poster = BeatPoster(slow.url, "ua", deadline_s=1.0)

        def churn():
            for _ in range(20):
                other = BeatPoster(fine.url, "ua")
                other.post(BODY)
                other.close()

        worker = threading.Thread(target=churn)
        worker.start()
        out, elapsed = timed_post(poster)
        worker.join()
        poster.close()
        assert out.reason is NetworkReason.TIMEOUT and elapsed < 1.5


@pytest.fixture
def full_backlog():
    """A listener that never accepts and whose queue is full: a new connect() hangs in SYN_SENT."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        try:
            filler.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fillers.append(filler)
    probe = socket.socket()
    probe.settimeout(0.3)
    try:
        probe.connect(("127.0.0.1", port))
        pytest.skip("this kernel completes connects to a full backlog")
    except TimeoutError:
        pass
    finally:
        probe.close()
    yield f"http://127.0.0.1:{port}/api/v1"
    for sock in [*fillers, listener]:
        sock.close()


def test_abort_cuts_a_hanging_connect(full_backlog):
    """Before: the socket reached the cutter only once connected; abort() waited for the connect timeout."""
    poster = BeatPoster(full_backlog, "ua", deadline_s=5.0)
    timer = threading.Timer(0.3, poster.abort)
    timer.start()
    try:
        out, elapsed = timed_post(poster)
    finally:
        timer.join()
        poster.close()
    assert out.reason is NetworkReason.CANCELLED, out
    assert elapsed < 0.3 + 0.5


@pytest.mark.parametrize("shape", SLOW_SHAPES)
def test_the_deadline_holds_when_sockets_cannot_be_duplicated(server_for, shape, monkeypatch):
    """Windows: os.dup refuses SOCKET handles. Before: the failed duplicate was swallowed, no cut reached
    any socket, and a dripping reply ran far past the deadline. Now a failed duplicate leaves the cutter
    holding the socket object itself."""

    def refuse(*args):
        raise OSError(9, "Bad file descriptor (as os.dup does for a Windows SOCKET)")

    monkeypatch.setattr("os.dup", refuse)
    monkeypatch.setattr("socket.dup", refuse)
    server = server_for(shape)
    poster = BeatPoster(server.url, "ua", deadline_s=1.0)
    try:
        out, elapsed = timed_post(poster)
    finally:
        poster.close()
    assert out.reason is NetworkReason.TIMEOUT, out
    assert elapsed < 1.0 + 0.5
