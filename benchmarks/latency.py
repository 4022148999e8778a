"""Latency and load fidelity: how true are the harness's latencies, and where does it fall behind?

1000 booted charge points send on a fixed schedule (Heartbeat or MeterValues), offering a rate
that rises step by step. At each step:

* what the harness reports (the engine's ``response_time``, exact, not Locust's rounded buckets);
* the reference: the CSMS's own receive-to-send time at that step plus the loopback baseline (the
  median round trip of a pre-built frame written on a plain blocking socket and answered in one
  read, at 200/s before the steps: loopback TCP and the CSMS's wake-up, with next to no client);
* offered versus achieved messages per second, the harness's CPU, and the fidelity tracker's
  verdict (``ocpp_users.fidelity``: due vs sent-on-time, loop lag, its warning).

A step is *faithful* when the harness achieves at least 97% of the offered rate, sends at least
99% on time (within 50 ms of the due time) and adds at most ``INFLATION_MS`` to the reference at
the 99th percentile. Saturation starts at the lowest step from which every higher step is
unfaithful; unfaithful steps below it are reported apart with how often the process was preempted.
"""

from __future__ import annotations

from typing import Any

from benchmarks.common import Options, csms_urls, log, start_csms, start_harness
from benchmarks.roundtrip import loopback_baseline

INFLATION_MS = 2.0
CPS = 1000


def _faithful(step: dict[str, Any]) -> bool:
    fidelity = step["fidelity_totals"]
    return (
        step["achieved_per_s"] >= 0.97 * step["offered_per_s"]
        and fidelity["on_time_ratio"] >= 0.99
        and step["inflation_p99_ms"] <= INFLATION_MS
    )


def run_latency(options: Options) -> dict[str, Any]:
    if options.quick:
        rates, duration = [500, 2000, 5000, 8000, 11000, 14000, 16000, 18000, 21000], 3.5
    else:
        rates = [250, 500, 1000, 2000, 4000, 6000, 8000, 10000, 12000, 13000, 14000, 15000, 16000, 18000, 20000]
        duration = 8.0
    if options.host:
        return {"skipped": "needs the benchmark CSMS's own receive-to-send times (not available with --host)"}
    csms = start_csms(options, heartbeat_interval=86400)
    harness = start_harness()
    try:
        url = csms_urls(csms)[0]
        baseline = loopback_baseline(url)
        base_ms = baseline["latency_s"]["p50"] * 1000.0
        harness.command("ramp", urls=[url], count=CPS, prefix="LAT", concurrency=100, heartbeats=False)
        steps = []
        for rate in rates:
            csms.command("reset")
            step = harness.command("open_loop", cps=CPS, rate=rate, duration=duration, timeout=duration + 120)
            server = csms.command("latency")
            server_ms = {k: v * 1000.0 for k, v in server["recv_to_send_s"].items() if k != "n"}
            lag_ms = {k: v * 1000.0 for k, v in server["loop_lag_s"].items() if k != "n"}
            lat = step["latency_ms"]
            totals: dict[str, int] = {"due": 0, "on_time": 0, "late": 0, "missed": 0}
            for counts in step["fidelity"]["totals"].values():
                for key in totals:
                    totals[key] += counts[key]
            item = {
                "offered_per_s": rate,
                "achieved_per_s": round(step["achieved_per_s"], 1),
                "harness_cpu_percent": round(step["cpu_percent"], 1),
                "harness_p50_ms": round(lat.get("p50", 0.0), 3),
                "harness_p99_ms": round(lat.get("p99", 0.0), 3),
                "harness_max_ms": round(lat.get("max", 0.0), 3),
                "reference_p50_ms": round(base_ms + server_ms.get("p50", 0.0), 3),
                "reference_p99_ms": round(base_ms + server_ms.get("p99", 0.0), 3),
                "csms_recv_to_send_p99_ms": round(server_ms.get("p99", 0.0), 3),
                "csms_loop_lag_p99_ms": round(lag_ms.get("p99", 0.0), 3),
                "loop_lag_p99_ms": round(1000.0 * step["fidelity"]["loop_lag_p99_s"], 3),
                "lateness_p99_ms": round(1000.0 * step["fidelity"]["lateness_p99_s"], 3),
                "gc_pause_max_ms": round(1000.0 * step["fidelity"]["gc_pause_max_s"], 3),
                "preempted_per_s": step["preempted_per_s"],
                "fidelity_totals": {
                    **totals,
                    "on_time_ratio": round(totals["on_time"] / totals["due"], 4) if totals["due"] else 1.0,
                },
                "failures": step["failures"],
                "warning": step["warning"],
            }
            item["inflation_p50_ms"] = round(item["harness_p50_ms"] - item["reference_p50_ms"], 3)
            item["inflation_p99_ms"] = round(item["harness_p99_ms"] - item["reference_p99_ms"], 3)
            item["faithful"] = _faithful(item)
            steps.append(item)
            log(
                f"latency: offered {rate}/s achieved {item['achieved_per_s']:.0f}/s cpu {item['harness_cpu_percent']}%"
                f" p50 {item['harness_p50_ms']:.2f} ms (ref {item['reference_p50_ms']:.2f})"
                f" p99 {item['harness_p99_ms']:.2f} ms (ref {item['reference_p99_ms']:.2f})"
                f" on time {item['fidelity_totals']['on_time_ratio']:.3f}"
                f" {'faithful' if item['faithful'] else 'NOT faithful'}"
            )
        harness.command("stop")
        # Saturation: the lowest step from which every higher step is unfaithful. Unfaithful steps
        # below it are listed apart: on a shared machine they come with the process being
        # preempted (another process took the core) rather than with its own CPU running out.
        onset = len(steps)
        while onset > 0 and not steps[onset - 1]["faithful"]:
            onset -= 1
        first_bad = steps[onset] if onset < len(steps) else None
        good = [s for s in steps[:onset] if s["faithful"]]
        last_good = good[-1] if good else None
        sporadic = [
            {k: s[k] for k in ("offered_per_s", "harness_cpu_percent", "harness_p99_ms", "preempted_per_s")}
            for s in steps[:onset]
            if not s["faithful"]
        ]
        behind = next((s for s in steps if s["achieved_per_s"] < 0.97 * s["offered_per_s"]), None)
        low = steps[0]
        return {
            "charge_points": CPS,
            "step_s": duration,
            "loopback_baseline_ms": {k: round(v * 1000.0, 3) for k, v in baseline["latency_s"].items() if k != "n"},
            "inflation_threshold_ms": INFLATION_MS,
            "low_load": {
                k: low[k]
                for k in (
                    "offered_per_s",
                    "harness_p50_ms",
                    "harness_p99_ms",
                    "reference_p50_ms",
                    "reference_p99_ms",
                    "harness_cpu_percent",
                )
            },
            "high_load": None
            if last_good is None
            else {
                k: last_good[k]
                for k in (
                    "offered_per_s",
                    "harness_p50_ms",
                    "harness_p99_ms",
                    "reference_p50_ms",
                    "reference_p99_ms",
                    "harness_cpu_percent",
                )
            },
            "max_faithful_rate_per_s": last_good["offered_per_s"] if last_good else None,
            "max_faithful_cpu_percent": last_good["harness_cpu_percent"] if last_good else None,
            "saturation_cpu_percent": first_bad["harness_cpu_percent"] if first_bad else None,
            "saturation_rate_per_s": first_bad["offered_per_s"] if first_bad else None,
            "falling_behind_at_per_s": behind["offered_per_s"] if behind else None,
            "unfaithful_below_saturation": sporadic,
            "steps": steps,
        }
    finally:
        harness.stop()
        csms.stop()
