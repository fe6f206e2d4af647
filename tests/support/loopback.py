"""Loopback addresses with known behaviour, for tests that need a server that is not there."""

import socket


def refused_port() -> int:
    """A port nothing listens on: bound once to get a free number, then closed (connects are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def refused_url() -> str:
    return f"http://127.0.0.1:{refused_port()}/api/v1"
