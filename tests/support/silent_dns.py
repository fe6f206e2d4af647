"""Run as root inside a private network namespace (only `lo`, see in_silent_dns_netns): a name server on
127.53.53.53:53 that takes every query and never answers, then the command given, whose output and exit
code are passed through. What a dead office resolver looks like to glibc."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading

ADDRESS = "127.53.53.53"


def swallow() -> list[socket.socket]:
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind((ADDRESS, 53))
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.bind((ADDRESS, 53))
    tcp.listen(16)

    def drain_udp() -> None:
        while True:
            udp.recvfrom(4096)  # read, never answered

    def hold_tcp() -> None:
        held = []
        while True:
            conn, _ = tcp.accept()
            held.append(conn)  # kept open, never answered

    for target in (drain_udp, hold_tcp):
        threading.Thread(target=target, daemon=True).start()
    return [udp, tcp]


if __name__ == "__main__":
    sockets = swallow()
    run = subprocess.run(sys.argv[1:], capture_output=True, text=True, timeout=120)
    sys.stdout.write(run.stdout)
    sys.stderr.write(run.stderr)
    sys.exit(run.returncode)
