"""The latency reference (``benchmarks.probe``) over real sockets, against the benchmark CSMS and
the testbed: which connections it probes, where each round trip is counted, what it refuses. No
figure is asserted. And the option errors of ``python -m benchmarks.busy_loop``."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from collections.abc import Iterator

import pytest

from benchmarks import latency
from benchmarks.busy_loop import spacing
from benchmarks.child import ROOT, Child
from benchmarks.common import Options, csms_urls, start_csms
from benchmarks.probe import PROBED, Probe
from ocpp_users.embedded import TestbedProcess


@pytest.fixture(scope="module")
def fast_csms() -> Iterator[Child]:
    csms = start_csms(Options(loop="asyncio"), heartbeat_interval=86400)
    try:
        yield csms
    finally:
        csms.stop()


@pytest.mark.parametrize(
    "rates",
    [latency.RATES, latency.SLOW_RATES, latency.QUICK_RATES, latency.QUICK_SLOW_RATES],
    ids=["rates", "slow", "quick", "quick-slow"],
)
def test_each_pool_connection_speaks_about_as_often_as_a_charge_point_of_the_harness(rates: list[int]) -> None:
    for rate in rates:
        # The probe picks a pool connection at random for POOL_SHARE of PROBE_RATE probes a second.
        each_every_s = latency.probe_connections(rate) / (latency.PROBE_RATE * latency.POOL_SHARE)
        assert each_every_s == pytest.approx(latency.CPS / rate, rel=0.07), rate


def test_the_quiet_harness_and_the_pool_are_spaced_as_the_busy_harness() -> None:
    assert spacing(250, 0) == (1000, latency.probe_connections(250))
    quiet_cps, pool = spacing(250, 8000)
    assert quiet_cps / 250 == pytest.approx(latency.CPS / 8000, rel=0.05)  # each every 125 ms
    assert pool == latency.probe_connections(8000)


def test_one_connection_without_a_pool_is_the_whole_reference(fast_csms: Child) -> None:
    probe = Probe(csms_urls(fast_csms)[0])
    try:
        answer = probe.probe(rate=400, duration=0.25)
    finally:
        probe.close()
    assert answer["pool_connections"] == 0 and "one_connection" not in answer
    assert answer["latency_s"]["n"] > 20 and answer["unstamped"] == 0
    assert 0 < answer["latency_s"]["p50"] <= answer["user_latency_s"]["p50"]


def test_a_pool_is_opened_ahead_not_during_a_step(fast_csms: Child) -> None:
    probe = Probe(csms_urls(fast_csms)[0])
    try:
        with pytest.raises(ValueError, match="open_pool first"):
            probe.probe(rate=400, duration=0.1, connections=2)
        assert probe.pool == []
    finally:
        probe.close()


def test_each_round_trip_is_counted_for_the_connection_it_went_on(csms: TestbedProcess) -> None:
    """What the CSMS received on each connection against what the probe counted where."""
    probe = Probe(csms.ws_url)
    try:
        probe.open_pool(4)
        answer = probe.probe(rate=300, duration=0.5, connections=3, pool_share=0.5)
    finally:
        probe.close()
    received: Counter[str] = Counter()
    for name in probe.names:
        status, body = csms.api("GET", f"/cps/{name}/messages")
        assert status == 200, body
        received[name] = sum(
            1 for m in body["messages"] if m["direction"] == "in" and m["type"] == 2 and m["action"] in PROBED
        )
    one, pool, unused = probe.names[0], probe.names[1:4], probe.names[4]
    assert answer["one_connection"]["latency_s"]["n"] == received[one] > 10
    assert answer["latency_s"]["n"] == sum(received[name] for name in pool) > 10
    assert all(received[name] > 0 for name in pool) and received[unused] == 0
    assert answer["pool_connections"] == 3


def test_a_close_frame_is_no_answer(csms: TestbedProcess) -> None:
    probe = Probe(csms.ws_url)
    try:
        status, body = csms.api("POST", f"/cps/{probe.names[0]}/disconnect")
        assert status == 200, body
        with pytest.raises(ConnectionError, match=r"other than an answer: b'\\x88"):
            probe.probe(rate=100, duration=0.2)
    finally:
        probe.close()


def test_the_reference_runs_no_engine_code() -> None:
    """A bug shared by the reference and the harness would hide itself."""
    code = "import sys, benchmarks.probe; print(sorted(m for m in sys.modules if m.split('.')[0] == 'ocpp_users'))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--busy-rates", "x"], "comma-separated numbers"),
        (["--busy-rates", ","], "one or more numbers"),
        (["--busy-rates", "nan"], "one or more numbers"),
        (["--busy-rates", "100"], "at least --quiet-rate"),
        (["--quiet-rate", "0"], "a positive number"),
        (["--repeat", "0"], "--repeat at least 1"),
    ],
)
def test_a_bad_option_is_one_line_and_exit_2(args: list[str], says: str) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.busy_loop", *args], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("python -m benchmarks.busy_loop: error: ") and says in lines[0]
