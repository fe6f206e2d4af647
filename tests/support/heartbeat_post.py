"""What the in-process network tests share: one body, a name no resolver knows, a timed post, a TLS
server for that name, and an environment with no proxy or CA variable (this machine sets some)."""

from __future__ import annotations

import time

import pytest

MINER = "miner-abcdef123456"
BODY = {"metrics": {"miner_id": MINER}}
NAME = "orch.test"  # resolvable nowhere: only a proxy (with its upstream) or a stuck resolver sees it
NETWORK_VARIABLES = (
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
)


def timed_post(poster, secrets=(MINER,)):
    started = time.monotonic()
    try:
        return poster.post(BODY, secrets=secrets), time.monotonic() - started
    finally:
        poster.close()


@pytest.fixture
def named_tls(tmp_path_factory):
    """A TLS server context for NAME and 127.0.0.1, and its CA file."""
    import ssl

    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(NAME, "127.0.0.1").configure_cert(ctx)
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return ctx, str(path)


@pytest.fixture
def clean_env(monkeypatch):
    for var in NETWORK_VARIABLES:
        monkeypatch.delenv(var, raising=False)
    return monkeypatch
