"""Attacks on --metrics-listen by a hostile local client, against a real headless agent
with a small descriptor limit (prlimit --nofile=64): idle connections far beyond the cap, slowloris
requests dripped a byte at a time, huge request heads, pipelined requests, clients that never read. The
beat must go on at its interval, the server must not spin, and an honest scrape must get through once
the attack stops."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from tests.support.app import ROOT, app_env

NOFILE = 64
INTERVAL_S = 0.5
ATTACK_S = 8.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Attacker:
    """Keeps up to `idle` idle connections open, re-opening those the server drops, plus a few clients
    that drip, flood the head, pipeline, or never read their reply."""

    def __init__(self, port: int, idle: int = 400) -> None:
        self.port = port
        self.idle = idle
        self.stop = threading.Event()
        self.opened = 0
        self.threads = [
            threading.Thread(target=self._idle, daemon=True),
            *(threading.Thread(target=self._slowloris, daemon=True) for _ in range(4)),
            threading.Thread(target=self._odd, daemon=True),
        ]

    def __enter__(self) -> Attacker:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(10)

    def _connect(self) -> socket.socket | None:
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", self.port))
        self.opened += 1
        return s

    def _idle(self) -> None:
        held: list[socket.socket] = []
        while not self.stop.is_set():
            held = [s for s in held if _alive(s)]
            while len(held) < self.idle:
                s = self._connect()
                if s is not None:
                    held.append(s)
            self.stop.wait(0.05)
        for s in held:
            s.close()

    def _slowloris(self) -> None:
        while not self.stop.is_set():
            with socket.create_connection(("127.0.0.1", self.port), timeout=30) as s:
                try:
                    for byte in b"GET /metrics HTTP/1.1\r\nX-A: " + b"a" * 10000:
                        if self.stop.wait(0.02):
                            return
                        s.send(bytes([byte]))
                except OSError:
                    continue

    def _odd(self) -> None:
        shapes = [
            b"GET /" + b"a" * 100000 + b" HTTP/1.1\r\n\r\n",  # a huge request line
            b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 20000 + b"\r\n",  # huge headers
            b"GET / HTTP/1.1\r\n\r\n" * 200,  # pipelined
            b"POST / HTTP/1.1\r\nContent-Length: 1000000\r\n\r\n" + b"x" * 100000,
            b"HEAD /../../etc/passwd HTTP/1.1\r\n\r\n",
            b"\x16\x03\x01\x02\x00" + b"\x00" * 512,  # a TLS hello
            b"\r\n\r\n",
        ]
        while not self.stop.is_set():
            for shape in shapes:
                try:
                    s = socket.create_connection(("127.0.0.1", self.port), timeout=2)
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)  # and never read the reply
                    s.sendall(shape)
                    s.close()
                except OSError:
                    pass
                if self.stop.wait(0.01):
                    return


def _alive(s: socket.socket) -> bool:
    try:
        data = s.recv(1, socket.MSG_PEEK)
    except BlockingIOError:
        return True
    except OSError:
        s.close()
        return False
    if data == b"":
        s.close()
        return False
    return True


def test_a_hostile_local_client_cannot_stop_the_beat_or_spin_the_server(home, orchestrator):
    port = _free_port()
    env = app_env(home)
    command = [
        "prlimit",
        f"--nofile={NOFILE}:{NOFILE}",
        sys.executable,
        "-m",
        "polaris_tray",
        "--headless",
        "--server-url",
        orchestrator.url,
        "--interval",
        str(INTERVAL_S),
        "--metrics-listen",
        f"127.0.0.1:{port}",
    ]
    agent = subprocess.Popen(command, env=env, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        assert orchestrator.wait_for(2, timeout=20), "the agent never beat"
        cpu_before = _cpu_seconds(agent.pid)
        beats_before = len(orchestrator.times())
        with Attacker(port) as attacker:
            time.sleep(ATTACK_S)  # the attack's length: the beats are counted over it
            beats = len(orchestrator.times()) - beats_before
            cpu = _cpu_seconds(agent.pid) - cpu_before
        assert agent.poll() is None, agent.stderr.read()
        # An honest scrape gets through once the attack stops (the idle ones expire within 5 s).
        text = ""
        end = time.monotonic() + 15
        while time.monotonic() < end and "polaris_agent_state" not in text:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=3) as reply:
                    text = reply.read().decode()
            except OSError:
                time.sleep(0.2)
    finally:
        agent.terminate()
        _out, err = agent.communicate(timeout=20)
    print(
        f"under attack ({attacker.opened} connections opened): {beats} beats in {ATTACK_S:g} s, "
        f"agent CPU {cpu:.2f} s"
    )
    assert beats >= ATTACK_S / INTERVAL_S / 2, (beats, err[-3000:])
    assert cpu < ATTACK_S * 0.6, f"the agent spun: {cpu:.2f} s of CPU in {ATTACK_S:g} s"
    assert 'polaris_agent_state{polaris_agent_state="online"} 1.0' in text, text[:500]
    assert agent.returncode == 0, err[-3000:]


def _scrape_flood(port: int, stop: threading.Event, done: list[int]) -> None:
    """Honest-looking scrapes as fast as the server takes them."""
    while not stop.is_set():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                s.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
                while s.recv(65536):
                    pass
            done.append(1)
        except OSError:
            pass


def test_a_flood_of_scrapes_cannot_buy_a_core_of_rendering(home, orchestrator):
    """Before: ~3,000 scrapes a second from any local user kept the agent at 100 % of a core."""
    port = _free_port()
    command = [sys.executable, "-m", "polaris_tray", "--headless", "--server-url", orchestrator.url]
    command += ["--interval", str(INTERVAL_S), "--metrics-listen", f"127.0.0.1:{port}"]
    agent = subprocess.Popen(command, env=app_env(home), cwd=ROOT, stderr=subprocess.PIPE, text=True)
    stop, done = threading.Event(), []
    flooders = [threading.Thread(target=_scrape_flood, args=(port, stop, done)) for _ in range(4)]
    try:
        assert orchestrator.wait_for(2, timeout=20), "the agent never beat"
        cpu_before, beats_before = _cpu_seconds(agent.pid), len(orchestrator.times())
        for t in flooders:
            t.start()
        time.sleep(ATTACK_S)  # the flood's length: CPU and beats are counted over it
        cpu = _cpu_seconds(agent.pid) - cpu_before
        beats = len(orchestrator.times()) - beats_before
    finally:
        stop.set()
        for t in flooders:
            t.join(10)
        agent.terminate()
        _out, err = agent.communicate(timeout=20)
    print(
        f"scrape flood: {len(done)} scrapes answered, agent CPU {cpu:.2f} s in {ATTACK_S:g} s, {beats} beats"
    )
    assert done, "no scrape was answered at all"
    assert cpu < ATTACK_S * 0.25, f"{cpu:.2f} s of CPU in {ATTACK_S:g} s ({len(done)} scrapes)"
    assert beats >= ATTACK_S / INTERVAL_S / 2, (beats, err[-2000:])
