"""Where a fleet charge point's memory goes: ``python -m benchmarks.memprofile [--users N] [--sessions]``.

Runs ``locust -f locustfiles/fleet.py,benchmarks/memprobe.py --headless`` against the benchmark
CSMS with tracemalloc on (``PYTHONTRACEMALLOC``), and prints, per charge point, the bytes allocated
by each source line and the objects of each type that appeared between ``test_start`` (no user yet)
and a few seconds after spawning completed, next to the RSS growth per charge point. Tracing costs
memory and CPU itself, so the RSS here is not a figure of the fleet; ``python -m benchmarks``'s
capacity part is.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from typing import Any

import orjson

from benchmarks.common import Options, Parser, csms_urls, log, start_csms
from benchmarks.fleetrun import FleetProcess, fleet_command


def profile(users: int, sessions: bool, frames: int, delay: float, options: Options) -> dict[str, Any]:
    csms = start_csms(options, "127.0.0.1:0", heartbeat_interval=60)
    try:
        with tempfile.TemporaryDirectory(prefix="vocpp-memprofile-") as workdir:
            out = os.path.join(workdir, "memprobe.json")
            args = fleet_command(
                csms_urls(csms)[0],
                users,
                500,
                run_time_s=600,
                heartbeat_interval=60,
                sessions=sessions,
                json_summary=os.path.join(workdir, "summary.json"),
            )
            args[2] = "locustfiles/fleet.py,benchmarks/memprobe.py"
            os.environ.update(VOCPP_MEMPROBE_OUT=out, VOCPP_MEMPROBE_DELAY=f"{delay:g}")
            if frames > 0:
                os.environ["PYTHONTRACEMALLOC"] = str(frames)
            fleet = FleetProcess(args, "memprofile", os.path.join(workdir, "summary.json"))
            log(f"memprofile: {fleet.command} (PYTHONTRACEMALLOC={frames})")
            fleet.start()
            try:
                deadline = time.monotonic() + users / 100 + delay + 120
                while not os.path.exists(out) and time.monotonic() < deadline and fleet.alive():
                    time.sleep(0.5)
                time.sleep(1.0)
                if not os.path.exists(out):
                    raise RuntimeError("no profile written:\n" + "\n".join(fleet.tail()))
                with open(out, "rb") as fh:
                    result: dict[str, Any] = orjson.loads(fh.read())
            finally:
                fleet.stop(120)
            result["command"] = fleet.command
            return result
    finally:
        for key in ("PYTHONTRACEMALLOC", "VOCPP_MEMPROBE_OUT", "VOCPP_MEMPROBE_DELAY"):
            os.environ.pop(key, None)
        csms.stop()


def report(result: dict[str, Any], top: int = 25) -> str:
    """The profile as text, per charge point."""
    users = max(int(result["users"]), 1)
    lines = [f"{result['command']}", f"charge points: {users}"]
    if result.get("rss_kib_before") is not None:
        rss = (result["rss_kib_after"] - result["rss_kib_before"]) / users
        tracing = " (tracing on: inflated)" if result.get("tracemalloc_frames") else ""
        lines.append(f"RSS growth per charge point{tracing}: {rss:.1f} KiB")
        if result.get("rss_kib_after_malloc_trim") is not None:
            trimmed = (result["rss_kib_after_malloc_trim"] - result["rss_kib_before"]) / users
            lines.append(f"  after malloc_trim(0) (free heap handed back to the OS): {trimmed:.1f} KiB")
    if result.get("traced_kib") is not None:
        lines.append(f"traced Python allocations per charge point: {result['traced_kib'] / users:.1f} KiB")
    if result["lines"]:
        lines.append("\nallocated per charge point, by source line (tracemalloc):")
    for item in result["lines"][:top]:
        lines.append(f"  {item['kib'] * 1024 / users:8.0f} B  {item['blocks'] / users:6.1f} blocks  {item['where']}")
    lines.append("\nobjects per charge point, by type (gc-tracked; shallow size):")
    for item in result["types"][:top]:
        lines.append(
            f"  {item['shallow_kib'] * 1024 / users:8.0f} B  {item['objects'] / users:6.2f} objects  {item['type']}"
        )
    return "\n".join(lines)


def bare_greenlets(count: int, depth: int = 0) -> dict[str, Any]:
    """RSS per parked greenlet, nothing else: ``count`` greenlets, each ``depth`` Python calls deep,
    waiting on one event (what a charge point's heartbeat, session and receive loops are while idle)."""
    import gc

    import gevent
    import gevent.event

    from benchmarks.procutil import rss_kib

    event = gevent.event.Event()

    def park(level: int) -> None:
        if level:
            park(level - 1)
        else:
            event.wait()

    gevent.sleep(0)
    gc.collect()
    before = rss_kib()
    greenlets = [gevent.spawn(park, depth) for _ in range(count)]
    gevent.sleep(0.1)
    after = rss_kib()
    event.set()
    gevent.joinall(greenlets, timeout=30)
    return {"greenlets": count, "depth": depth, "rss_bytes_per_greenlet": round((after - before) * 1024 / count)}


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="python -m benchmarks.memprofile", description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--sessions", action="store_true", help="default sessions (else: idle)")
    parser.add_argument("--frames", type=int, default=1, help="tracemalloc frames per allocation (0: no tracing)")
    parser.add_argument("--delay", type=float, default=8.0, help="seconds after spawning completes")
    parser.add_argument("--json", metavar="FILE", help="also write the profile as JSON")
    parser.add_argument("--bare-greenlets", type=int, metavar="N", help="only: RSS per parked greenlet (N of them)")
    args = parser.parse_args(argv)
    if args.bare_greenlets:
        print(orjson.dumps(bare_greenlets(args.bare_greenlets)).decode())
        return 0
    result = profile(args.users, args.sessions, args.frames, args.delay, Options())
    print(report(result))
    if args.json:
        with open(args.json, "wb") as fh:
            fh.write(orjson.dumps(result, option=orjson.OPT_INDENT_2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
