"""The latency reference (``benchmarks.probe``) against the benchmark CSMS, over real sockets:
which connections it probes and where each round trip is counted. No figure is asserted."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from benchmarks import latency
from benchmarks.child import Child
from benchmarks.common import Options, csms_urls, start_csms
from benchmarks.probe import Probe


@pytest.fixture(scope="module")
def fast_csms() -> Iterator[Child]:
    csms = start_csms(Options(loop="asyncio"), heartbeat_interval=86400)
    try:
        yield csms
    finally:
        csms.stop()


def test_the_pool_speaks_as_often_as_a_charge_point_of_the_harness() -> None:
    for rate in (250, 500, 1000, 2000, 4000, 8000, 14000, 20000):
        connections = latency.probe_connections(rate)
        each_every_s = connections / (latency.PROBE_RATE * latency.POOL_SHARE)
        assert each_every_s == pytest.approx(latency.CPS / rate, rel=0.05), rate


def test_one_connection_counts_every_round_trip_as_the_reference(fast_csms: Child) -> None:
    probe = Probe(csms_urls(fast_csms)[0])
    try:
        answer = probe.probe(rate=400, duration=0.25)
    finally:
        probe.close()
    assert answer["connections"] == 1 and "one_connection" not in answer
    assert answer["latency_s"]["n"] > 20 and answer["unstamped"] == 0
    assert 0 < answer["latency_s"]["p50"] <= answer["user_latency_s"]["p50"]


def test_a_pool_is_opened_booted_and_probed_beside_the_one_connection(fast_csms: Child) -> None:
    before = fast_csms.command("stats")
    probe = Probe(csms_urls(fast_csms)[0])
    try:
        answer = probe.probe(rate=400, duration=0.3, connections=6)
        assert len(probe.pool) == 6
        # A smaller step uses the first connections of the pool; none is opened.
        smaller = probe.probe(rate=400, duration=0.1, connections=3)
    finally:
        probe.close()
    after = fast_csms.command("stats")
    assert after["booted_total"] - before["booted_total"] == 7  # the one connection and the pool
    assert answer["connections"] == 6 and smaller["connections"] == 3
    pool_n, one_n = answer["latency_s"]["n"], answer["one_connection"]["latency_s"]["n"]
    assert pool_n > 10 and one_n > 10  # both halves sampled (each about half of ~120)
    assert answer["unstamped"] == 0
