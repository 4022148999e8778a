"""Cost per round trip: OCPP round trips per CPU-second of the harness process, against the raw floor.

Three contenders against the same benchmark CSMS process, each in its own process, each a closed
loop on the same number of connections sending the same messages (``benchmarks.messages``):

* ``harness``: the engine with the real Locust request event (``Environment().events.request``,
  stats on) and schema validation on;
* ``harness_novalidation``: the same with validation off;
* ``raw``: websocket-client + orjson (+ gevent for the connections), no engine, no Locust.

CPU is the process's own user + system time (``getrusage``). The machine is shared, so the three
are run in interleaved rounds and the medians are reported, with every sample.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from typing import Any

import orjson

from benchmarks.child import ROOT
from benchmarks.common import Options, csms_urls, log, start_csms, start_harness


def _raw(url: str, connections: int, duration: float, blocking: bool = False) -> dict[str, Any]:
    args = [sys.executable, "-m", "benchmarks.rawloop", "--url", url, "--duration", str(duration)]
    args += ["--blocking"] if blocking else ["--connections", str(connections)]
    out = subprocess.run(args, cwd=str(ROOT), capture_output=True, text=True, timeout=duration + 60, check=True)
    result: dict[str, Any] = orjson.loads(out.stdout.strip().splitlines()[-1])
    return result


def _harness(url: str, connections: int, duration: float, validate: bool) -> dict[str, Any]:
    harness = start_harness()
    try:
        return harness.command(
            "closed_loop", url=url, connections=connections, duration=duration, validate=validate, stats=True
        )
    finally:
        harness.stop()


def loopback_baseline(url: str, rate: float = 200.0, duration: float = 3.0) -> dict[str, Any]:
    """Round-trip latency of a paced, blocking websocket-client loop at low load: the loopback baseline."""
    args = [sys.executable, "-m", "benchmarks.rawloop", "--url", url, "--rate", str(rate), "--duration", str(duration)]
    out = subprocess.run(args, cwd=str(ROOT), capture_output=True, text=True, timeout=duration + 60, check=True)
    result: dict[str, Any] = orjson.loads(out.stdout.strip().splitlines()[-1])
    return result


def run_roundtrip(options: Options) -> dict[str, Any]:
    rounds = 2 if options.quick else 4
    duration = 4.0 if options.quick else 8.0
    connections = 32
    csms = None if options.host else start_csms(options)
    try:
        url = options.host or csms_urls(csms)[0]  # type: ignore[arg-type]
        samples: dict[str, list[dict[str, Any]]] = {"harness": [], "harness_novalidation": [], "raw": []}
        for index in range(rounds):
            log(f"roundtrip: round {index + 1}/{rounds} ({duration:g} s each: harness, no validation, raw)")
            samples["harness"].append(_harness(url, connections, duration, validate=True))
            samples["harness_novalidation"].append(_harness(url, connections, duration, validate=False))
            samples["raw"].append(_raw(url, connections, duration))
        blocking = _raw(url, 1, duration, blocking=True)
        median = {k: statistics.median(s["roundtrips_per_cpu_s"] for s in v) for k, v in samples.items()}
        failures = sum(s.get("failures", 0) for s in samples["harness"] + samples["harness_novalidation"])
        return {
            "roundtrips_per_cpu_s": round(median["harness"]),
            "roundtrips_per_cpu_s_novalidation": round(median["harness_novalidation"]),
            "raw_roundtrips_per_cpu_s": round(median["raw"]),
            "ratio_vs_raw": round(median["harness"] / median["raw"], 3),
            "ratio_vs_raw_novalidation": round(median["harness_novalidation"] / median["raw"], 3),
            "raw_blocking_single_connection_per_cpu_s": round(blocking["roundtrips_per_cpu_s"]),
            "connections": connections,
            "duration_s": duration,
            "rounds": rounds,
            "failures": failures,
            "samples": {
                k: [
                    {
                        "per_cpu_s": round(s["roundtrips_per_cpu_s"]),
                        "per_s": round(s["roundtrips_per_s"]),
                        "cpu_percent": round(100.0 * s["cpu_s"] / s["wall_s"], 1),
                    }
                    for s in v
                ]
                for k, v in samples.items()
            },
            "messages": "Heartbeat, StatusNotification, MeterValues (2 sampled values), Authorize, in turn",
        }
    finally:
        if csms is not None:
            csms.stop()
