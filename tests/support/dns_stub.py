"""A stand-in DNS server (UDP and TCP) that answers, delays, swallows, or fails, for a private network
namespace whose /etc/resolv.conf points at it.

Names map to addresses (A and AAAA from one list); `mode` shapes every answer: "answer", "silent"
(nothing comes back, as from a dead nameserver), "slow" (answers after `delay` seconds), "nxdomain",
"servfail", "aaaa_silent" (A answered, AAAA swallowed: a home router or middlebox that drops IPv6
queries). Each query is recorded as (name, type) so a test can see what the resolver asked.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
import threading

ANSWER, SILENT, SLOW, NXDOMAIN, SERVFAIL = "answer", "silent", "slow", "nxdomain", "servfail"
AAAA_SILENT = "aaaa_silent"
_A, _AAAA = 1, 28


class DnsStub:
    def __init__(
        self,
        host: str = "127.53.53.53",
        records: dict[str, list[str]] | None = None,
        *,
        mode: str = ANSWER,
        delay: float = 0.0,
        port: int = 53,
    ) -> None:
        self.records = {k.lower().rstrip("."): v for k, v in (records or {}).items()}
        self.mode = mode
        self.delay = delay
        self.queries: list[tuple[str, int]] = []
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._udp.bind((host, port))
        self._udp.settimeout(0.1)
        self._tcp = socket.create_server((host, port))
        self._tcp.settimeout(0.1)
        self._threads = [
            threading.Thread(target=self._serve_udp, daemon=True),
            threading.Thread(target=self._serve_tcp, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def wait_for_query(self, timeout: float = 10.0, count: int = 1) -> bool:
        """True once `count` queries have come in: a test that must act during a lookup waits for this."""
        with self._cond:
            return self._cond.wait_for(lambda: len(self.queries) >= count, timeout)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(2)
        self._udp.close()
        self._tcp.close()

    def __enter__(self) -> DnsStub:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _serve_udp(self) -> None:
        while not self._stop.is_set():
            try:
                query, peer = self._udp.recvfrom(4096)
            except OSError:
                continue
            threading.Thread(target=self._reply_udp, args=(query, peer), daemon=True).start()

    def _reply_udp(self, query: bytes, peer) -> None:
        answer = self._answer(query)
        if answer is not None:
            try:
                self._udp.sendto(answer, peer)
            except OSError:
                pass

    def _serve_tcp(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._tcp.accept()
            except OSError:
                continue
            with conn:
                try:
                    conn.settimeout(2)
                    size = struct.unpack("!H", conn.recv(2))[0]
                    answer = self._answer(conn.recv(size))
                    if answer is not None:
                        conn.sendall(struct.pack("!H", len(answer)) + answer)
                except (OSError, struct.error):
                    pass

    def _answer(self, query: bytes) -> bytes | None:
        try:
            qid, _flags, _qdcount = struct.unpack("!HHH", query[:6])
            name, qtype, end = _question(query)
        except (struct.error, IndexError, UnicodeDecodeError):
            return None
        with self._cond:
            self.queries.append((name, qtype))
            self._cond.notify_all()
        if self.mode == SILENT or (self.mode == AAAA_SILENT and qtype == _AAAA):
            return None
        if self.mode == SLOW and self._stop.wait(self.delay):
            return None
        question = query[12:end]
        if self.mode == SERVFAIL:
            return struct.pack("!HHHHHH", qid, 0x8182, 1, 0, 0, 0) + question
        addresses = self.records.get(name)
        if self.mode == NXDOMAIN or addresses is None:
            return struct.pack("!HHHHHH", qid, 0x8183, 1, 0, 0, 0) + question
        answers = b""
        count = 0
        for text in addresses:
            ip = ipaddress.ip_address(text)
            if (ip.version == 4 and qtype == _A) or (ip.version == 6 and qtype == _AAAA):
                answers += struct.pack("!HHHLH", 0xC00C, qtype, 1, 30, len(ip.packed)) + ip.packed
                count += 1
        return struct.pack("!HHHHHH", qid, 0x8180, 1, count, 0, 0) + question + answers


def _question(query: bytes) -> tuple[str, int, int]:
    labels = []
    at = 12
    while query[at]:
        size = query[at]
        labels.append(query[at + 1 : at + 1 + size].decode("ascii"))
        at += 1 + size
    qtype = struct.unpack("!H", query[at + 1 : at + 3])[0]
    return ".".join(labels).lower(), qtype, at + 5
