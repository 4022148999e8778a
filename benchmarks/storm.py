"""Reconnect storm: every connection dropped at once (the CSMS process is killed), the CSMS back a
few seconds later, and the fleet watched as it reconnects with its backoff and jitter.

The harness samples its connected count every 0.25 s and keeps every request event with its time;
the plot shows connected charge points and latency percentiles per second across the storm.
"""

from __future__ import annotations

import time
from typing import Any

from benchmarks.common import Options, csms_urls, log, start_csms, start_harness
from benchmarks.procutil import percentiles

HEARTBEAT_S = 5
DOWN_S = 3.0


def run_storm(options: Options, freeze: bool = False, cps: int | None = None) -> dict[str, Any]:
    if options.host:
        return {"skipped": "the storm restarts the benchmark CSMS (not possible with --host)"}
    cps = cps or (2000 if options.quick else 10000)
    limit = 45.0 if options.quick else 90.0
    csms = start_csms(options, heartbeat_interval=HEARTBEAT_S)
    harness = start_harness()
    try:
        url = csms_urls(csms)[0]
        listen = url.removeprefix("ws://").rstrip("/")
        ramp = harness.command("ramp", urls=[url], count=cps, prefix="STORM", concurrency=200)
        log(f"storm: {ramp['connected']} charge points connected; heartbeat every {HEARTBEAT_S} s")
        if freeze:
            harness.command("gc_freeze")
        watch = harness.command("watch", period=0.25)
        time.sleep(2 * HEARTBEAT_S)
        killed_at = time.monotonic()
        csms.kill()
        log(f"storm: CSMS killed; back in {DOWN_S:g} s")
        time.sleep(DOWN_S)
        csms = start_csms(options, listen, heartbeat_interval=HEARTBEAT_S)
        restarted_at = time.monotonic()
        all_back_at = None
        while time.monotonic() - restarted_at < limit:
            time.sleep(0.5)
            if harness.command("sample")["connected"] >= ramp["connected"]:
                all_back_at = time.monotonic()
                break
        log(
            "storm: "
            + (
                f"all back {all_back_at - restarted_at:.1f} s after the restart"
                if all_back_at
                else f"not all back within {limit:g} s"
            )
        )
        time.sleep(2 * HEARTBEAT_S)
        timeline = harness.command("timeline", timeout=120)
        harness.command("stop")
        events = timeline["events"]
        reconnects = [e for e in events if e[2] == "reconnect"]
        ok_handshakes = [e[3] for e in reconnects if e[4]]
        before = [e[3] for e in events if e[1].startswith("OCPP") and e[0] < killed_at]
        after = [e[3] for e in events if e[1].startswith("OCPP") and all_back_at and e[0] > all_back_at]
        return {
            "charge_points": ramp["connected"],
            "gc_frozen_after_ramp": freeze,
            "heartbeat_interval_s": HEARTBEAT_S,
            "csms_down_s": DOWN_S,
            "all_reconnected_s": round(all_back_at - restarted_at, 2) if all_back_at else None,
            "reconnect_attempts": len(reconnects),
            "reconnect_failures": sum(1 for e in reconnects if not e[4]),
            "reconnect_handshake_ms": {k: round(v, 2) for k, v in percentiles(ok_handshakes).items()},
            "roundtrip_ms_before": {k: round(v, 3) for k, v in percentiles(before).items()},
            "roundtrip_ms_after": {k: round(v, 3) for k, v in percentiles(after).items()},
            "drops": timeline["drops"],
            "_plot": {
                "t0": watch["t"],
                "killed_at": killed_at,
                "restarted_at": restarted_at,
                "timeline": timeline["timeline"],
                "events": events,
            },
        }
    finally:
        harness.stop()
        csms.stop()
