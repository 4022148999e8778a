"""Does a busy harness read the CSMS's round trips low? A quiet harness beside a busy one.

``python -m benchmarks.busy_loop [--busy-rates 0,2000,4000,6000,8000] [--quiet-rate 250]
[--seconds 6] [--repeat 2] [--shared-cores]``

Two harness processes (1,000 booted charge points each: engine objects, as in
:mod:`benchmarks.latency`) and the latency reference (:mod:`benchmarks.probe`), against one
benchmark CSMS on a core of its own. At each step the *busy* harness offers a rate that loads both
the CSMS and its own event loop, while the *quiet* one offers ``--quiet-rate`` messages a second
(a few percent of a core) and the probe its 200. The quiet harness sends on as many of its charge
points, and the probe on a pool of as many connections, as make each connection speak as often as
one of the busy harness's (a connection that spoke recently is served faster: see
:func:`benchmarks.latency.probe_connections`). All three are timed the same way (from the write to
the kernel's receive timestamp of the answer), against the same CSMS at the same time: only the
client differs, and the two harnesses run the same code. Where the quiet harness agrees with the
reference and the busy one does not, the busy one's figure moves with its own busy event loop, not
with the CSMS's load, its connections' spacing or the engine's timing code. (On two cores the
quiet harness and the probe share their core with the busy harness: quiet in what they do, not in
what the scheduler gives them.)

Why it would: a single event loop cannot interrupt what it is doing, so the sends that fall due
while it handles answers are all due when it is done. Sent back to back, they reach the CSMS as a
burst, and a CSMS awake after the first of them answers the rest sooner than it answers sends at
independent times, as a real fleet's are. The pacer therefore resumes them one loop turn apart
(``ocpp_users/ocppj/pacing.py``: ``Pacer._fire``); this benchmark shows whether that is enough.

Prints one line per step and repeat, and the ratios to the reference (1.0: agrees).
"""

from __future__ import annotations

import argparse
import math
import sys
from typing import Any

from benchmarks.child import Child, ChildError, at_once
from benchmarks.common import Options, Parser, csms_urls, start_csms, start_harness
from benchmarks.latency import CPS, POOL_SHARE, PROBE_RATE, WARMUP_S, place, probe_connections, start_probe


def _ratio(value: float, reference: float) -> float | None:
    return round(value / reference, 3) if reference > 0 else None


def spacing(quiet_rate: float, busy_rate: float) -> tuple[int, int]:
    """The quiet harness's charge points and the probe's pool at a step: each of their connections
    speaks as often as one of the busy harness's (the quiet one's own :data:`CPS` without it)."""
    rate = busy_rate if busy_rate > 0 else quiet_rate
    quiet_cps = max(2, min(CPS, round(quiet_rate * CPS / rate)))
    return quiet_cps, probe_connections(rate)


def run_step(
    quiet: Child, busy: Child, probe: Child, quiet_rate: float, busy_rate: float, seconds: float
) -> dict[str, Any]:
    """The three clients at the same time; the p50s (ms) and each harness's CPU."""
    quiet_cps, pool = spacing(quiet_rate, busy_rate)
    timeout = seconds + 120
    probing = {"rate": PROBE_RATE, "duration": seconds, "delay": WARMUP_S, "connections": pool}
    jobs = {
        "probe": (probe, "probe", {**probing, "pool_share": POOL_SHARE, "timeout": timeout}),
        "quiet": (quiet, "open_loop", {"cps": quiet_cps, "rate": quiet_rate, "duration": seconds, "timeout": timeout}),
    }
    if busy_rate > 0:
        jobs["busy"] = (busy, "open_loop", {"cps": CPS, "rate": busy_rate, "duration": seconds, "timeout": timeout})
    answers = dict(zip(jobs, at_once(list(jobs.values())), strict=True))
    reference = answers["probe"]["latency_s"]["p50"] * 1000.0
    step: dict[str, Any] = {
        "busy_rate": busy_rate,
        "quiet_charge_points": quiet_cps,
        "reference_pool_connections": pool,
        "reference_p50_ms": round(reference, 4),
        "quiet_cpu_percent": round(answers["quiet"]["cpu_percent"], 1),
        "quiet_p50_ms": round(answers["quiet"]["latency_ms"]["p50"], 4),
    }
    step["quiet_ratio"] = _ratio(step["quiet_p50_ms"], reference)
    if "busy" in answers:
        step["busy_cpu_percent"] = round(answers["busy"]["cpu_percent"], 1)
        step["busy_p50_ms"] = round(answers["busy"]["latency_ms"]["p50"], 4)
        step["busy_ratio"] = _ratio(step["busy_p50_ms"], reference)
    return step


def describe(step: dict[str, Any], quiet_rate: float) -> str:
    line = f"busy {step['busy_rate']:g}/s"
    if "busy_p50_ms" in step:
        line += (
            f" (CPU {step['busy_cpu_percent']} %): p50 {1000 * step['busy_p50_ms']:.1f} us, {step['busy_ratio']}x"
            " the reference"
        )
    return (
        f"{line}; quiet {quiet_rate:g}/s on {step['quiet_charge_points']} charge points"
        f" (CPU {step['quiet_cpu_percent']} %): p50 {1000 * step['quiet_p50_ms']:.1f} us,"
        f" {step['quiet_ratio']}x; reference p50 {1000 * step['reference_p50_ms']:.1f} us"
    )


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="python -m benchmarks.busy_loop", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--busy-rates", default="0,2000,4000,6000,8000", help="the busy harness's messages per second, comma-separated"
    )
    parser.add_argument("--quiet-rate", type=float, default=250.0, help="the quiet harness's messages per second")
    parser.add_argument("--seconds", type=float, default=6.0, help="seconds per step")
    parser.add_argument("--repeat", type=int, default=2, help="times through the rates")
    parser.add_argument("--shared-cores", action="store_true", help="leave placement to the OS")
    args = parser.parse_args(argv)
    rates = parser.numbers("--busy-rates", args.busy_rates)
    if not rates or not all(math.isfinite(r) and r >= 0 for r in rates):
        parser.error(f"--busy-rates {args.busy_rates!r}: one or more numbers, 0 or more")
    if not (math.isfinite(args.quiet_rate) and args.quiet_rate > 0):
        parser.error(f"--quiet-rate {args.quiet_rate}: a positive number")
    if not (math.isfinite(args.seconds) and args.seconds > 0) or args.repeat < 1:
        parser.error("--seconds must be positive, --repeat at least 1")
    if any(0 < r < args.quiet_rate for r in rates):
        parser.error("each busy rate is 0 (no busy harness) or at least --quiet-rate")
    try:
        run(rates, args)
    except ChildError as exc:
        print(f"python -m benchmarks.busy_loop: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 1
    return 0


def run(rates: list[float], args: argparse.Namespace) -> None:
    children: list[Child] = []
    csms = start_csms(Options(), heartbeat_interval=86400)
    try:
        url = csms_urls(csms)[0]
        for start in (start_harness, start_harness, lambda: start_probe(url)):
            children.append(start())
        quiet, busy, probe = children
        print(f"placement: {place(not args.shared_cores, csms.pid, [c.pid for c in children])}", flush=True)
        for name, child in (("QUIET", quiet), ("BUSY", busy)):
            child.command("ramp", urls=[url], count=CPS, prefix=name, concurrency=100, heartbeats=False)
        pools = [spacing(args.quiet_rate, rate)[1] for rate in rates]
        probe.command("pool", count=max(pools), timeout=120)
        for _ in range(args.repeat):
            for rate in rates:
                step = run_step(quiet, busy, probe, args.quiet_rate, rate, args.seconds)
                print(describe(step, args.quiet_rate), flush=True)
    finally:
        for child in children:
            child.stop()
        csms.stop()


if __name__ == "__main__":
    sys.exit(main())
