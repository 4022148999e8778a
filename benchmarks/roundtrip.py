"""Cost per round trip: OCPP round trips per CPU-second of the harness process, against two floors.

Four contenders against the same benchmark CSMS process, each in its own process, each a closed
loop on the same number of connections sending the same messages (``benchmarks.messages``):

* ``harness``: the engine (``Station.call``: RPC, receive greenlet, pending map,
  call timer) with the real Locust request event (``Environment().events.request``, stats on) and
  schema validation of every request and answer;
* ``harness_novalidation``: the same with validation off;
* ``raw``: the websocket-client floor, its own per-frame path (``ws.send``/``ws.recv_data``) +
  orjson + gevent, no engine, no Locust;
* ``raw_frame``: the engine-framing floor, the engine's own frame path (``send_text`` and
  ``FrameReader``) + orjson + gevent, no RPC, no validation, no Locust.

CPU is the process's own user + system time (``getrusage``). The machine is shared, so the
contenders run in interleaved rounds and the medians are reported, with every sample.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from typing import Any

import orjson

from benchmarks.child import ROOT
from benchmarks.common import Options, csms_urls, log, start_csms, start_harness

CONTENDERS = ("harness", "harness_novalidation", "raw", "raw_frame")


def _raw(
    url: str, connections: int, duration: float, framing: str = "websocket-client", blocking: bool = False
) -> dict[str, Any]:
    args = [sys.executable, "-m", "benchmarks.rawloop", "--url", url, "--duration", str(duration), "--framing", framing]
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


def _run(contender: str, url: str, connections: int, duration: float) -> dict[str, Any]:
    if contender == "harness":
        return _harness(url, connections, duration, validate=True)
    if contender == "harness_novalidation":
        return _harness(url, connections, duration, validate=False)
    if contender == "raw":
        return _raw(url, connections, duration, framing="websocket-client")
    return _raw(url, connections, duration, framing="engine")


def run_roundtrip(options: Options) -> dict[str, Any]:
    rounds = 2 if options.quick else 4
    duration = 4.0 if options.quick else 8.0
    connections = 32
    csms = None if options.host else start_csms(options)
    try:
        url = options.host or csms_urls(csms)[0]  # type: ignore[arg-type]
        samples: dict[str, list[dict[str, Any]]] = {c: [] for c in CONTENDERS}
        for index in range(rounds):
            log(f"roundtrip: round {index + 1}/{rounds} ({duration:g} s each: {', '.join(CONTENDERS)})")
            # Rotate the order each round: whatever the machine does meanwhile falls on each in turn.
            order = CONTENDERS[index % len(CONTENDERS) :] + CONTENDERS[: index % len(CONTENDERS)]
            for contender in order:
                samples[contender].append(_run(contender, url, connections, duration))
        blocking = _raw(url, 1, duration, blocking=True)
        median = {k: statistics.median(s["roundtrips_per_cpu_s"] for s in v) for k, v in samples.items()}
        failures = sum(s.get("failures", 0) for s in samples["harness"] + samples["harness_novalidation"])
        return {
            "roundtrips_per_cpu_s": round(median["harness"]),
            "roundtrips_per_cpu_s_novalidation": round(median["harness_novalidation"]),
            "raw_roundtrips_per_cpu_s": round(median["raw"]),
            "raw_frame_roundtrips_per_cpu_s": round(median["raw_frame"]),
            "ratio_vs_raw": round(median["harness"] / median["raw"], 3),
            "ratio_vs_raw_frame": round(median["harness"] / median["raw_frame"], 3),
            "ratio_vs_raw_novalidation": round(median["harness_novalidation"] / median["raw"], 3),
            "ratio_vs_raw_frame_novalidation": round(median["harness_novalidation"] / median["raw_frame"], 3),
            "raw_blocking_single_connection_per_cpu_s": round(blocking["roundtrips_per_cpu_s"]),
            "us_per_roundtrip": {k: round(1e6 / v, 1) for k, v in median.items() if v},
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
