"""Attacks through the proxy variables: a proxy URL a user typed with a raw special
character in its password. The agent, --once and the doctor must refuse it with a sentence (never an
internal error, never a traceback) and never show the password. Run in a private network namespace with
only `lo`, so nothing can reach a real host whatever the code does."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support import netns
from tests.support.app import ROOT, app_env

PASSWORD = "s3cr]t"  # a raw "]": urlsplit raises "Invalid IPv6 URL" on the whole URL
SECRET = "pr0xy-pass"
SERVER = "https://192.0.2.10/api/v1"  # TEST-NET-1: never routed anywhere real

pytestmark = pytest.mark.skipif(netns.unavailable() is not None, reason=str(netns.unavailable()))


def run_isolated(args: list[str], env: dict) -> subprocess.CompletedProcess:
    command = "ip link set lo up && exec " + " ".join([sys.executable, "-m", "polaris_tray", *args])
    return subprocess.run(
        ["unshare", "-n", "sh", "-c", command], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def env(home):
    return app_env(home, HTTPS_PROXY=f"http://alice:{PASSWORD}@127.0.0.1:3128")


def test_once_refuses_an_unreadable_proxy_url_with_a_sentence(env):
    result = run_isolated(["--once", "--server-url", SERVER], env)
    text = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Internal error" not in text and "Traceback" not in text, text
    assert "config_error" in result.stdout and "HTTPS_PROXY" in text and "cannot be read" in text, text
    assert "***" not in text and "http://HOST:PORT" in text  # the advice itself is not scrubbed away
    assert PASSWORD not in text and "alice" not in text


def test_the_doctor_names_the_unreadable_proxy_url(env):
    result = run_isolated(["--doctor", "--no-send", "--server-url", SERVER], env)
    text = result.stdout + result.stderr
    assert "Traceback" not in text, text
    proxy = next(line for line in result.stdout.splitlines() if line[2:].startswith("Proxy:"))
    assert proxy.startswith("✘") and "HTTPS_PROXY" in proxy and "cannot be read" in proxy, result.stdout
    assert PASSWORD not in text and "alice" not in text


class RawProxy:
    """Reads a CONNECT, answers `reply`, then sends `then` (bytes, repeated) until the client goes."""

    def __init__(self, reply: bytes, then: bytes = b"") -> None:
        import socket
        import threading

        self.reply, self.then = reply, then
        self.authorizations: list[bytes] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return self._listener.getsockname()[1]

    def _serve(self) -> None:
        self._listener.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(15)
                head = b""
                try:
                    while b"\r\n\r\n" not in head:
                        chunk = conn.recv(4096)
                        if not chunk:
                            break
                        head += chunk
                    self.authorizations += [
                        line
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"proxy-authorization")
                    ]
                    conn.sendall(self.reply)
                    while self.then and not self._stop.is_set():
                        conn.sendall(self.then)
                except OSError:
                    pass

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self._listener.close()


GARBAGE = bytes(range(256)) * 256
HUGE_407 = (
    b"HTTP/1.1 407 " + b"R" * 60000 + b"\r\nProxy-Authenticate: Basic realm=x\r\n"
    b"Content-Length: 100000000\r\n\r\n"
)


@pytest.mark.parametrize(
    ("reply", "then", "words"),
    [
        (b"HTTP/1.1 200 Connection established\r\n\r\n", GARBAGE, "no TLS came through the proxy"),
        (b"HTTP/1.0 200 OK\r\n\r\n", b"HTTP/1.0 403 Blocked by policy\r\n\r\n<html>", "no TLS came through"),
        (HUGE_407, GARBAGE, "needs credentials"),
        (b"HTTP/1.1 200 OK\r\n" + b"X: " + b"y" * 100000 + b"\r\n\r\n", b"", "proxy"),
    ],
    ids=["200-then-garbage", "200-then-a-block-page", "407-huge-reason-and-body", "200-with-a-100k-header"],
)
def test_a_hostile_proxy_reply_ends_in_time_and_names_the_proxy_without_credentials(home, reply, then, words):
    import time

    proxy = RawProxy(reply, then)
    try:
        env = app_env(home, HTTPS_PROXY=f"http://alice:{SECRET}@127.0.0.1:{proxy.port}")
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "polaris_tray", "--once", "--server-url", SERVER],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        took = time.monotonic() - started
    finally:
        proxy.stop()
    text = result.stdout + result.stderr
    assert proxy.authorizations, "the credentials went to the proxy"
    assert result.returncode == 1 and took < 12.5, (took, text)
    assert words in text and "Internal error" not in text and "Traceback" not in text, text
    assert SECRET not in text and "alice" not in text
    assert len(result.stdout) < 2000, len(result.stdout)
