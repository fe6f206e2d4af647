"""The local address of the last heartbeat connection towards each host, for the payload's ip_address.

Taken from a socket that is already connected, so filling the payload never looks a name up on the
beat's path (a lookup there would sit outside the deadline).
"""

from __future__ import annotations

import socket

_LOCAL_ADDRESSES: dict[str, str] = {}


def remember_local_address(host: str, sock: socket.socket) -> None:
    """The IPv4 address this machine used for its last connection towards host (for the payload)."""
    try:
        if sock.family == socket.AF_INET:
            if len(_LOCAL_ADDRESSES) > 16:
                _LOCAL_ADDRESSES.clear()
            _LOCAL_ADDRESSES[host] = sock.getsockname()[0]
    except OSError:
        pass


def local_address_for(host: str) -> str | None:
    return _LOCAL_ADDRESSES.get(host)
