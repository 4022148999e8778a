"""How late does a timed wait end, and what does a wake-up cost: the event loop's tick against the pacer.

``python -m benchmarks.pacing [--rates 2000,8000,16000] [--seconds 3] [--greenlets 1000]``

``--greenlets`` greenlets (charge points, with nothing to send) each wake on a fixed schedule, at
random phases, so that together they wake ``rate`` times a second: once with ``gevent.sleep``
(``--pacing tick``: libev's epoll waits in whole milliseconds), once with
:func:`ocpp_users.ocppj.pacing.sleep_until` (``exact``: the latency benchmark's open loop) and once
with :func:`ocpp_users.ocppj.pacing.wait` on an event nobody sets (``exact-wait``: what a fleet's
heartbeats and sessions use, the whole wait on the pacer).
Printed per rate and mode: the wake-ups achieved, the process's CPU per wake-up (user + system) and
how long after its due time each wait ended (p50 / p99). No socket is involved: this is the cost and
precision of the wait alone. What the spacing does to round trips against a CSMS: ``python -m
benchmarks.bunching``.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()


import math  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from array import array  # noqa: E402

import gevent  # noqa: E402
from gevent.event import Event  # noqa: E402

from benchmarks.common import Parser  # noqa: E402
from benchmarks.engine import pacing_wait, set_precise, sleep_until  # noqa: E402
from benchmarks.procutil import cpu_s, percentiles  # noqa: E402

MODES = ("tick", "exact", "exact-wait")


def run(mode: str, rate: float, greenlets: int, seconds: float) -> dict[str, float]:
    """One mode at one rate: wake-ups per second, CPU per wake-up (µs), lateness p50 / p99 (µs)."""
    set_precise(mode != "tick")
    never = Event()
    interval = greenlets / rate
    start = time.monotonic() + 0.2
    running = True
    late: array[float] = array("d")
    woken = 0

    def loop(phase: float) -> None:
        nonlocal woken
        due = start + interval * phase
        while running:
            if mode == "exact-wait":
                pacing_wait(never, due - time.monotonic())
            else:
                sleep_until(due)
            late.append(time.monotonic() - due)
            woken += 1
            due += interval

    workers = [gevent.spawn(loop, random.random()) for _ in range(greenlets)]
    gevent.sleep(0.2 + interval)  # every greenlet has woken once
    del late[:]
    c0, n0, t0 = cpu_s(), woken, time.monotonic()
    gevent.sleep(seconds)
    c1, n1, t1 = cpu_s(), woken, time.monotonic()
    running = False
    gevent.killall(workers, timeout=5)
    set_precise(True)
    lateness = percentiles(late)
    n = max(1, n1 - n0)
    return {
        "wakeups_per_s": n / (t1 - t0),
        "cpu_percent": 100.0 * (c1 - c0) / (t1 - t0),
        "cpu_us_per_wakeup": 1e6 * (c1 - c0) / n,
        "late_p50_us": 1e6 * lateness.get("p50", math.nan),
        "late_p99_us": 1e6 * lateness.get("p99", math.nan),
    }


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="python -m benchmarks.pacing", description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="2000,8000,16000", help="wake-ups per second, comma-separated")
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds per rate and mode")
    parser.add_argument("--greenlets", type=int, default=1000, help="waiting greenlets")
    args = parser.parse_args(argv)
    rates = parser.numbers("--rates", args.rates)
    if args.greenlets < 1 or args.seconds <= 0 or not rates or min(rates) <= 0:
        parser.error("--greenlets, --seconds and every rate must be positive")
    columns = ("rate/s", "mode", "wake-ups/s", "CPU %", "CPU us/wake", "late p50 us", "p99 us")
    widths = (8, 10, 11, 6, 12, 12, 8)
    print(" ".join(f"{c:>{w}}" for c, w in zip(columns, widths, strict=True)))
    for rate in rates:
        for mode in MODES:
            r = run(mode, rate, args.greenlets, args.seconds)
            print(
                f"{rate:>8g} {mode:>10} {r['wakeups_per_s']:>11.0f} {r['cpu_percent']:>6.1f} "
                f"{r['cpu_us_per_wakeup']:>12.1f} {r['late_p50_us']:>12.0f} {r['late_p99_us']:>8.0f}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
