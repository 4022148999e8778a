"""Is the reference CSMS (``python -m testbed``) fast enough to measure the harness against?

The same harness ramp and the same closed loop, once against the testbed and once against the
benchmark CSMS; the CSMS processes' own CPU and memory come from psutil.
"""

from __future__ import annotations

import time
from typing import Any

from benchmarks.child import Child
from benchmarks.common import Options, csms_urls, log, start_csms, start_harness


def _proc(pid: int) -> Any:
    import psutil

    return psutil.Process(pid)


def _cpu(proc: Any) -> float:
    times = proc.cpu_times()
    return float(times.user + times.system)


def _measure(url: str, pid: int, count: int, label: str) -> dict[str, Any]:
    proc = _proc(pid)
    rss0 = proc.memory_info().rss
    harness = start_harness()
    try:
        cpu0, t0 = _cpu(proc), time.monotonic()
        ramp = harness.command("ramp", urls=[url], count=count, prefix=f"TB{label}", concurrency=200, heartbeats=False)
        cpu1, t1 = _cpu(proc), time.monotonic()
        rss1 = proc.memory_info().rss
        harness.command("stop", timeout=300)
        cpu2 = _cpu(proc)
        loop = harness.command("closed_loop", url=url, connections=32, duration=4.0, validate=True, stats=True)
        cpu3 = _cpu(proc)
        result = {
            "connected": ramp["connected"],
            "ramp_s": round(t1 - t0, 1),
            "connects_per_s": round(ramp["connected"] / (t1 - t0)),
            "csms_cpu_percent_during_ramp": round(100.0 * (cpu1 - cpu0) / (t1 - t0), 1),
            "harness_cpu_percent_during_ramp": round(100.0 * ramp["ramp_cpu_s"] / ramp["ramp_s"], 1),
            "csms_rss_kib_per_connection": round((rss1 - rss0) / 1024 / max(ramp["connected"], 1), 1),
            "closed_loop_roundtrips_per_s": round(loop["roundtrips_per_s"]),
            "closed_loop_csms_cpu_percent": round(100.0 * (cpu3 - cpu2) / loop["wall_s"], 1),
            "closed_loop_harness_cpu_percent": round(100.0 * loop["cpu_s"] / loop["wall_s"], 1),
            "failures": ramp["failures"],
        }
        log(f"testbed check: {label}: {result}")
        return result
    finally:
        harness.stop()


def run_testbed_check(options: Options) -> dict[str, Any]:
    from benchmarks.engine import testbed_process

    count = 3000 if options.quick else 19000
    testbed = testbed_process(["--port", "0", "--api-port", "0", "-q", "--heartbeat-interval", "300"])
    testbed.start()
    try:
        assert testbed.process is not None
        on_testbed = _measure(testbed.ws_url, testbed.process.pid, count, "testbed")
    finally:
        testbed.stop()
    fast: Child = start_csms(options, heartbeat_interval=300)
    try:
        on_fast = _measure(csms_urls(fast)[0], fast.pid, count, "fastcsms")
    finally:
        fast.stop()
    bottleneck = (
        on_testbed["csms_cpu_percent_during_ramp"] > 80.0
        or on_testbed["connected"] < count
        or on_testbed["closed_loop_roundtrips_per_s"] < 0.8 * on_fast["closed_loop_roundtrips_per_s"]
    )
    return {
        "charge_points": count,
        "testbed": on_testbed,
        "fastcsms": on_fast,
        "testbed_is_bottleneck": bottleneck,
    }
