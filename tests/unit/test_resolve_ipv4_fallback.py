"""The name lookup when the AAAA answer never comes (a nameserver or home router that drops IPv6 queries):
IPv4 alone is asked once the full lookup is slow, and its answer is used 50 ms later if the full one is
still missing (RFC 8305's resolution delay). getaddrinfo is a stand-in per family here; the system test
(tests/system/test_real_networks.py) runs the real one against a stand-in nameserver."""

import socket
import threading
import time

import pytest

from polaris_tray.core.platform.resolve import FALLBACK_AFTER_S, Resolver, ResolveTimeout

V4 = (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.0.2.10", 0))
V6 = (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("2001:db8::10", 0, 0, 0))


class PerFamily:
    """getaddrinfo whose full (AF_UNSPEC) and IPv4-only answers come when the test says."""

    def __init__(self, full_after: float | None, ipv4_after: float | None = 0.0, full_error=None) -> None:
        self.full_after, self.ipv4_after, self.full_error = full_after, ipv4_after, full_error
        self.calls: list[str] = []
        self.release = threading.Event()

    def __call__(self, host, port, family, kind):
        self.calls.append(family.name)
        after = self.full_after if family is socket.AF_UNSPEC else self.ipv4_after
        if after is None:  # never answers (until the test ends)
            self.release.wait(30)
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        self.release.wait(after)
        if family is socket.AF_UNSPEC:
            if self.full_error is not None:
                raise self.full_error
            return [V6, V4]
        return [V4]


@pytest.fixture
def dns():
    made: list[PerFamily] = []

    def make(*args, **kwargs) -> PerFamily:
        made.append(PerFamily(*args, **kwargs))
        return made[-1]

    yield make
    for fake in made:
        fake.release.set()


def timed(resolver: Resolver, timeout: float = 5.0):
    started = time.monotonic()
    found = resolver.resolve("orch.example", 443, timeout=timeout)
    return found, time.monotonic() - started


def test_a_missing_aaaa_answer_costs_the_fallback_delay_not_the_deadline(dns):
    fake = dns(full_after=None)
    found, took = timed(Resolver(fake))
    assert found == [(*V4[:4], ("192.0.2.10", 443))]
    assert FALLBACK_AFTER_S <= took < FALLBACK_AFTER_S + 0.5, took  # before: the whole deadline, then none
    assert fake.calls == ["AF_UNSPEC", "AF_INET"]


def test_a_quick_full_lookup_asks_nothing_more_and_keeps_the_systems_order(dns):
    fake = dns(full_after=0.0)
    found, took = timed(Resolver(fake))
    assert [info[0] for info in found] == [socket.AF_INET6, socket.AF_INET] and took < FALLBACK_AFTER_S
    assert fake.calls == ["AF_UNSPEC"]  # and none can start later: only a waiting attempt asks IPv4


def test_a_full_answer_within_the_resolution_delay_of_the_a_answer_wins(dns):
    fake = dns(full_after=FALLBACK_AFTER_S + 0.02, ipv4_after=0.0)  # A first, AAAA 20 ms behind it
    found, _took = timed(Resolver(fake))
    assert [info[0] for info in found] == [socket.AF_INET6, socket.AF_INET]


def test_one_flight_however_many_attempts_wait_on_a_dead_aaaa(dns):
    fake = dns(full_after=None)
    resolver = Resolver(fake)
    results: list = []
    waiters = [threading.Thread(target=lambda: results.append(timed(resolver))) for _ in range(5)]
    for waiter in waiters:
        waiter.start()
    for waiter in waiters:
        waiter.join(5)
    assert len(results) == 5 and all(found[0][0] is socket.AF_INET for found, _ in results)
    later, took = timed(resolver)  # the full lookup still hangs: its flight's answer, no new query
    assert later[0][0] is socket.AF_INET and took < 0.05
    assert fake.calls == ["AF_UNSPEC", "AF_INET"] and resolver.started == 1


def test_a_failed_lookup_is_told_and_the_next_attempt_asks_again(dns):
    fake = dns(full_after=0.0, full_error=socket.gaierror(socket.EAI_NONAME, "Name or service not known"))
    resolver = Resolver(fake)
    for _ in range(2):
        with pytest.raises(socket.gaierror):
            resolver.resolve("orch.example", 443, timeout=2)
    assert fake.calls == ["AF_UNSPEC", "AF_UNSPEC"] and resolver.started == 2


def test_with_no_answer_at_all_the_attempt_still_ends_at_its_time(dns):
    fake = dns(full_after=None, ipv4_after=None)
    started = time.monotonic()
    with pytest.raises(ResolveTimeout):
        Resolver(fake).resolve("orch.example", 443, timeout=0.6)
    assert time.monotonic() - started < 1.0
    assert fake.calls == ["AF_UNSPEC", "AF_INET"]
