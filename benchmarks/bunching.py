"""Do the harness's sends leave evenly spaced, and what does it do to the round trips it reports?

``python -m benchmarks.bunching [--rates 2000,4000,8000] [--seconds 4] [--shared-cores] [--pacing exact|batch|tick]``

1,000 booted charge points (engine objects, as in :mod:`benchmarks.latency`) send on a fixed
schedule at each offered rate, against the benchmark CSMS on a core of its own. Their phases are
random (the same seed in every run and mode), so the schedule itself has gaps of every size, as a
real fleet's has (exponential-like at 1,000 charge points); bunching shows as sends piling into the
shortest gaps, beyond what the schedule puts there. Every call's send
time and reported round trip are kept; the round trips are grouped by how long after the previous
send (of any charge point) the call went out, and printed as count and p50 per group. A send that
follows another closely finds the CSMS awake; one after a quiet gap pays its wake-up, as a lone
client's does (the latency probe sends 200 a second). ``--pacing tick`` sends on the event
loop's millisecond tick, as ``--pacing tick`` does in a fleet; the CPU of each step is printed.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import itertools  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
from typing import Any  # noqa: E402

from benchmarks.common import Options, Parser, csms_urls, start_csms  # noqa: E402
from benchmarks.engine import PACING_MODES, set_pacing  # noqa: E402
from benchmarks.harness import Harness  # noqa: E402
from benchmarks.latency import CPS, place  # noqa: E402

GROUPS = ((20.0, "< 20 us"), (100.0, "20-100 us"), (300.0, "100-300 us"), (float("inf"), "> 300 us"))
"""Upper bounds (microseconds after the previous send) and their labels."""


def _group(gap_us: float) -> str:
    return next(label for bound, label in GROUPS if gap_us < bound)


def run_rate(harness: Harness, rate: float, seconds: float) -> dict[str, Any]:
    """One open-loop step (the latency benchmark's, :meth:`Harness.cmd_open_loop`); the round
    trips grouped by the gap before their send."""
    step = harness.cmd_open_loop(cps=CPS, rate=rate, duration=seconds, record_calls=True)
    samples: list[tuple[float, float]] = step["calls"]
    samples.sort()
    samples = samples[len(samples) // 20 :]  # the first 5 %: the schedule settling
    groups: dict[str, list[float]] = {label: [] for _, label in GROUPS}
    for (previous, _), (sent, response_time) in itertools.pairwise(samples):
        groups[_group((sent - previous) * 1e6)].append(response_time)
    return {
        "offered_per_s": rate,
        "cpu_percent": round(step["cpu_percent"], 1),
        "p50_ms": round(statistics.median(r for _, r in samples), 3) if samples else None,
        "groups": {
            label: {"calls": len(values), "p50_ms": round(statistics.median(values), 3) if values else None}
            for label, values in groups.items()
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="python -m benchmarks.bunching", description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="2000,4000,8000", help="offered messages per second, comma-separated")
    parser.add_argument("--seconds", type=float, default=4.0, help="seconds per rate")
    parser.add_argument("--shared-cores", action="store_true", help="leave placement to the OS")
    parser.add_argument(
        "--pacing",
        choices=PACING_MODES,
        default="exact",
        help="exact: sends at their due time, one loop turn apart (the default, as the fleet's --pacing); "
        "batch: at their due time, back to back; tick: on the loop's ms tick",
    )
    args = parser.parse_args(argv)
    rates = parser.numbers("--rates", args.rates)
    set_pacing(args.pacing)
    csms = start_csms(Options(), heartbeat_interval=86400)
    try:
        print(f"placement: {place(not args.shared_cores, csms.pid, [os.getpid()])}", flush=True)
        harness = Harness()
        harness.cmd_ramp(urls=[csms_urls(csms)[0]], count=CPS, prefix="BUNCH", concurrency=100, heartbeats=False)
        for rate in rates:
            result = run_rate(harness, rate, args.seconds)
            cells = ", ".join(
                f"{label}: {g['calls']} calls p50 {g['p50_ms']} ms" for label, g in result["groups"].items()
            )
            head = f"{rate:g}/s ({args.pacing}, CPU {result['cpu_percent']} %): p50 {result['p50_ms']} ms"
            print(f"{head}; by gap before the send: {cells}", flush=True)
        harness.cmd_stop()
    finally:
        csms.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
