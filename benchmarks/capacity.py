"""Capacity: charge points connected, booted and heartbeating in one worker process (and in two).

Each worker is a harness process (real ``Station`` objects on gevent) ramped until a
connect fails or its open-files limit is reached (a small reserve is kept for the process's own
files). Each worker gets its own benchmark CSMS process on its own loopback address: a CSMS
process has the same open-files limit, and distinct destinations keep the 4-tuples apart, so the
~28,000 ephemeral ports of one source address are never the limit.

After the ramp the CSMS's counters are reset and the workers are watched for one heartbeat
interval: every charge point must heartbeat once in it (counted by the CSMS, per charge point id),
and the harness's CPU in that window is the idle CPU at that interval.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from benchmarks.child import Child
from benchmarks.common import Options, csms_loop, csms_urls, log, start_csms, start_harness


def run_capacity(options: Options, workers: int, heartbeat_interval: int) -> dict[str, Any]:
    csmss: list[Child] = []
    harnesses: list[Child] = []
    try:
        if options.host:
            urls = [options.host] * workers
        else:
            for i in range(workers):
                csmss.append(start_csms(options, f"127.0.0.{i + 1}:0", heartbeat_interval=heartbeat_interval))
            urls = [csms_urls(c)[0] for c in csmss]
        harnesses = [start_harness() for _ in range(workers)]
        log(f"capacity: ramping {workers} worker(s) to their open-files limit (heartbeat {heartbeat_interval} s)")
        ramps: list[dict[str, Any]] = [{} for _ in range(workers)]

        def ramp(index: int) -> None:
            ramps[index] = harnesses[index].command(
                "ramp", urls=[urls[index]], count=1_000_000, prefix=f"W{index}-", concurrency=200, timeout=900
            )

        threads = [threading.Thread(target=ramp, args=(i,)) for i in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for index, result in enumerate(ramps):
            log(
                f"capacity: worker {index}: {result.get('connected')} connected in {result.get('ramp_s', 0):.1f} s"
                f" ({result.get('failures') or 'no failures'})"
            )
        for csms in csmss:
            csms.command("reset")
        csms_before = [c.command("stats") for c in csmss]
        before = [h.command("sample") for h in harnesses]
        window = heartbeat_interval + 2.0
        log(f"capacity: watching one heartbeat interval ({window:.0f} s)")
        time.sleep(window)
        after = [h.command("sample") for h in harnesses]
        csms_after = [c.command("stats") for c in csmss]
        per_worker = []
        for index in range(workers):
            r, b, a = ramps[index], before[index], after[index]
            elapsed = a["t"] - b["t"]
            connected = a["connected"]
            heartbeats = a["heartbeats_ok"] - b["heartbeats_ok"]
            item: dict[str, Any] = {
                "connected": connected,
                "booted": r["booted"],
                "heartbeats_in_window": heartbeats,
                "ramp_s": round(r["ramp_s"], 1),
                "ramp_cpu_s": round(r["ramp_cpu_s"], 1),
                "connects_per_s": round(r["connected"] / r["ramp_s"], 0) if r["ramp_s"] else None,
                "rss_kib_per_cp": round((a["rss_kib"] - r["rss_before_kib"]) / connected, 1) if connected else None,
                "rss_mib": round(a["rss_kib"] / 1024, 0),
                "baseline_rss_mib": round(r["rss_before_kib"] / 1024, 0),
                "idle_cpu_percent": round(100.0 * (a["cpu_s"] - b["cpu_s"]) / elapsed, 2),
                "open_fds": a["open_fds"],
                "fd_limit": r["fd_limit"],
                "failures": r["failures"],
            }
            if csmss:
                cb, ca = csms_before[index], csms_after[index]
                item["heartbeating"] = min(ca["heartbeat_cps"], connected)
                item["csms_open"] = ca["open"]
                item["csms_cpu_percent"] = round(100.0 * (ca["cpu_s"] - cb["cpu_s"]) / elapsed, 2)
                item["csms_rss_kib_per_connection"] = round(ca["rss_kib"] / max(ca["open"], 1), 1)
            else:
                item["heartbeating"] = min(heartbeats, connected)
            per_worker.append(item)
        log("capacity: stopping the charge points")
        for harness in harnesses:
            harness.command("stop", timeout=300)
        return {
            "workers": workers,
            "heartbeat_interval_s": heartbeat_interval,
            "window_s": window,
            "csms": options.host or f"benchmarks.fastcsms ({csms_loop(options)})",
            "per_worker": per_worker,
            "total_heartbeating": sum(w["heartbeating"] for w in per_worker),
        }
    finally:
        for child in harnesses + csmss:
            child.stop()
