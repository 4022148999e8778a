"""The harness under test, as a child process: real ``Station`` objects in one gevent
process, their events going to a real Locust ``Environment`` (``events.request`` with stats on).

Locust's User/runner spawning machinery is not used: the charge points are created directly, so
that what is measured is the engine (connection, RPC, validation, stats) and nothing else.

Driven by JSON-line commands on stdin, one JSON-line answer each on stdout (see ``COMMANDS``).
Started by :mod:`benchmarks.__main__`; run ``python -m benchmarks.harness`` only through it.
"""

from __future__ import annotations

import gc
import random
import sys
import time
from array import array
from collections import Counter
from collections.abc import Callable
from typing import Any

import gevent
import gevent.pool
import locust  # noqa: F401  # gevent monkey-patching before anything touches sockets
import orjson
from gevent.fileobject import FileObjectPosix
from locust.env import Environment

from benchmarks.engine import (
    CP_TO_CSMS,
    SCHEMAS,
    WEBSOCKET,
    ChargePointSettings,
    FidelityTracker,
    RequestSink,
    Station,
    VolatileOcppError,
    null_sink,
    sleep_until,
)
from benchmarks.messages import MESSAGES
from benchmarks.procutil import cpu_s, open_fds, percentiles, preemptions, raise_nofile, rss_kib


class Harness:
    def __init__(self) -> None:
        self.fd_limit = raise_nofile()
        self.env = Environment()
        self.runner = self.env.create_local_runner()
        self.cps: list[Station] = []
        self.failures: Counter[str] = Counter()
        self.events: list[tuple[float, str, str, float, bool]] = []
        self.recording = False
        self.samples: array[float] = array("d")
        self.loop_lag: array[float] = array("d")
        self.timeline: list[tuple[float, int]] = []
        self._sampler: gevent.Greenlet | None = None
        SCHEMAS.warm_up([name for name, _ in MESSAGES] + ["BootNotification"])
        gc.collect()
        self.baseline_rss_kib = rss_kib()

    # ------------------------------------------------------------ sinks

    def sink(self, stats: bool) -> RequestSink:
        return self.env.events.request.fire if stats else null_sink

    def _on_request(
        self,
        request_type: str,
        name: str,
        response_time: float,
        response_length: int,
        exception: BaseException | None = None,
        **kwargs: Any,
    ) -> None:
        """Only while watching (the storm): every event with its time, for the plot."""
        self.events.append((time.monotonic(), request_type, name, response_time, exception is None))

    # ------------------------------------------------------------ commands

    def new_cp(self, cp_id: str, url: str, *, validate: bool, stats: bool, **extra: Any) -> Station:
        settings = ChargePointSettings(cp_id, url, validate=validate, call_timeout=60.0, connect_timeout=60.0, **extra)
        return Station(settings, sink=self.sink(stats))

    def cmd_ramp(
        self,
        urls: list[str],
        count: int,
        prefix: str = "CP",
        concurrency: int = 100,
        validate: bool = True,
        stats: bool = True,
        heartbeats: bool = True,
        fd_reserve: int = 24,
        max_failures: int = 50,
        backoff_max: float = 30.0,
    ) -> dict[str, Any]:
        """Connect, boot and start heartbeating ``count`` more charge points (the CSMS sets the interval)."""
        room = self.fd_limit - open_fds() - fd_reserve
        target = min(count, room)
        pool = gevent.pool.Pool(concurrency)
        start, cpu0, rss0 = time.monotonic(), cpu_s(), rss_kib()
        stop = False
        first = len(self.cps)

        def one(index: int) -> None:
            nonlocal stop
            if stop:
                return
            cp = self.new_cp(
                f"{prefix}{index:06d}", urls[index % len(urls)], validate=validate, stats=stats, backoff_max=backoff_max
            )
            try:
                cp.connect()
                cp.boot_until_accepted(max_attempts=3)
            except VolatileOcppError as exc:
                self.failures[f"ramp: {exc}"[:160]] += 1
                if sum(v for k, v in self.failures.items() if k.startswith("ramp:")) >= max_failures:
                    stop = True
                cp.stop(stop_transactions=False)
                return
            self.cps.append(cp)
            if heartbeats:
                cp.spawn(cp.run_heartbeats)

        for i in range(first, first + target):
            if stop:
                break
            pool.spawn(one, i)
        pool.join()
        return {
            "requested": count,
            "target": target,
            "connected": self.connected(),
            "booted": sum(1 for cp in self.cps if cp.registration == "Accepted"),
            "ramp_s": time.monotonic() - start,
            "ramp_cpu_s": cpu_s() - cpu0,
            "rss_before_kib": rss0,
            "rss_after_kib": rss_kib(),
            "baseline_rss_kib": self.baseline_rss_kib,
            "open_fds": open_fds(),
            "fd_limit": self.fd_limit,
            "failures": dict(self.failures.most_common(5)),
        }

    def connected(self) -> int:
        return sum(1 for cp in self.cps if cp.connected)

    def cmd_sample(self) -> dict[str, Any]:
        stats = self.env.stats
        hb = stats.entries.get(("Heartbeat", CP_TO_CSMS))
        return {
            "t": time.monotonic(),
            "cpu_s": cpu_s(),
            "rss_kib": rss_kib(),
            "connected": self.connected(),
            "cps": len(self.cps),
            "heartbeats_ok": (hb.num_requests - hb.num_failures) if hb else 0,
            "requests": stats.total.num_requests,
            "request_failures": stats.total.num_failures,
            "open_fds": open_fds(),
            "failures": dict(self.failures.most_common(5)),
            "errors": {f"{e.method} {e.name}: {e.error}"[:160]: e.occurrences for e in stats.errors.values()},
        }

    def cmd_watch(self, period: float = 0.25, record_events: bool = True) -> dict[str, Any]:
        """Start sampling the connected count (and recording request events) for the storm plot."""
        self.timeline = []
        self.events = []
        if record_events and not self.recording:
            self.env.events.request.add_listener(self._on_request)
            self.recording = True

        def sample() -> None:
            while True:
                self.timeline.append((time.monotonic(), self.connected()))
                gevent.sleep(period)

        if self._sampler is not None:
            self._sampler.kill()
        self._sampler = gevent.spawn(sample)
        return {"ok": True, "t": time.monotonic()}

    def cmd_timeline(self) -> dict[str, Any]:
        if self._sampler is not None:
            self._sampler.kill()
            self._sampler = None
        if self.recording:
            self.env.events.request.remove_listener(self._on_request)
            self.recording = False
        return {
            "timeline": self.timeline,
            "events": [e for e in self.events if e[1] in (CP_TO_CSMS, WEBSOCKET)],
            "reconnects": sum(cp.reconnects for cp in self.cps),
            "drops": sum(cp.drops for cp in self.cps),
        }

    def cmd_closed_loop(
        self, url: str, connections: int = 32, duration: float = 10.0, validate: bool = True, stats: bool = True
    ) -> dict[str, Any]:
        """Each charge point sends MESSAGES in turn, back to back: round trips per CPU-second."""
        cps = []
        for i in range(connections):
            cp = self.new_cp(f"RT{i:05d}-{int(time.time() * 1000) % 100000}", url, validate=validate, stats=stats)
            cp.connect()
            cp.boot()
            cps.append(cp)
        counts = [0] * connections
        running = True

        def loop(index: int, cp: Station) -> None:
            n = 0
            k = index
            while running:
                action, payload = MESSAGES[k % len(MESSAGES)]
                k += 1
                try:
                    cp.call(action, payload)
                    n += 1
                except VolatileOcppError:
                    pass
            counts[index] = n

        self.env.stats.reset_all()
        gc.collect()
        greenlets = [gevent.spawn(loop, i, cp) for i, cp in enumerate(cps)]
        gevent.sleep(min(1.0, duration / 5))  # warm-up: every loop running
        ok0 = sum(counts)  # (counts are written at the end; use the stats for the window)
        req0 = self.env.stats.total.num_requests
        t0, c0 = time.monotonic(), cpu_s()
        gevent.sleep(duration)
        t1, c1 = time.monotonic(), cpu_s()
        req1 = self.env.stats.total.num_requests
        running = False
        gevent.joinall(greenlets, timeout=30)
        total_ok = sum(counts) - ok0
        for cp in cps:
            cp.stop(stop_transactions=False)
        window_requests = req1 - req0 if stats else total_ok
        return {
            "roundtrips": window_requests,
            "roundtrips_total": total_ok,
            "wall_s": t1 - t0,
            "cpu_s": c1 - c0,
            "roundtrips_per_cpu_s": window_requests / (c1 - c0) if c1 > c0 else 0.0,
            "roundtrips_per_s": window_requests / (t1 - t0),
            "failures": self.env.stats.total.num_failures,
            "stats_entries": len(self.env.stats.entries),
        }

    def cmd_open_loop(
        self,
        cps: int,
        rate: float,
        duration: float,
        tolerance: float = 0.05,
        record_calls: bool = False,
        seed: int = 1,
    ) -> dict[str, Any]:
        """The first ``cps`` ramped charge points each send on a fixed schedule (Heartbeat or
        MeterValues, alternating by charge point), each at a phase drawn from ``seed``, so that
        together they offer ``rate`` messages per second; each send leaves at its due time
        (:func:`sleep_until`). Latency is what the engine reports (``response_time`` of its request
        events: from the send to the answer's arrival); ``caller_latency_ms`` is each call as its
        greenlet lived it. With ``record_calls`` the answer also has ``calls``: (perf_counter before
        the call, its reported round trip) for every answered call, in the order they ended."""
        if len(self.cps) < cps:
            raise ValueError("ramp the charge points first")
        fleet = self.cps[:cps]
        interval = cps / rate
        tracker = FidelityTracker(tolerance_s=tolerance, window_s=duration + 1.0)
        latencies: array[float] = array("d")
        waited: array[float] = array("d")
        """Each call's time as the calling greenlet lived it (encoding and wake-up included), in ms."""
        calls: list[tuple[float, float]] | None = [] if record_calls else None
        reported: dict[Any, float] = {}
        running = True
        start = time.monotonic() + 0.2
        # Each charge point at a phase of its own, drawn at random as a real fleet's are (they booted
        # when they booted), not spread evenly: an evenly spread fleet is one strictly periodic
        # sender, which a probe or a CSMS timer can lock onto.
        # Seeded (``seed``): the same phases in every run and mode, so runs compare like with like.
        draw = random.Random(seed).random
        phases = [draw() for _ in fleet]

        def on_request(
            request_type: str, response_time: float, exception: BaseException | None = None, **kwargs: Any
        ) -> None:
            if request_type == CP_TO_CSMS and exception is None:
                latencies.append(response_time)
                if calls is not None:
                    reported[gevent.getcurrent()] = response_time  # fired in the calling greenlet

        def loop(index: int, cp: Station) -> None:
            action, payload = MESSAGES[0] if index % 2 == 0 else MESSAGES[2]
            due = start + interval * phases[index]
            while running:
                now = time.monotonic()
                if due > now:
                    sleep_until(due)
                    if not running:
                        return
                    now = time.monotonic()
                missed = int((now - due) // interval)
                if missed > 0:
                    tracker.missed(action, missed)
                    due += missed * interval
                tracker.scheduled(action, due)
                tracker.sent(action, due, now)
                began = time.perf_counter()
                try:
                    cp.call(action, payload)
                except VolatileOcppError:
                    pass
                else:
                    waited.append((time.perf_counter() - began) * 1000.0)
                    if calls is not None:
                        response_time = reported.pop(gevent.getcurrent(), None)
                        if response_time is not None:
                            calls.append((began, response_time))
                due += interval

        gc.collect()
        self.env.events.request.add_listener(on_request)
        self.env.stats.reset_all()
        tracker.start_sampling()
        greenlets = [gevent.spawn(loop, i, cp) for i, cp in enumerate(fleet)]
        gevent.sleep(0.2)
        c0, t0, n0, p0, w0 = cpu_s(), time.monotonic(), len(latencies), preemptions(), len(waited)
        gevent.sleep(duration)
        c1, t1, n1, p1, w1 = cpu_s(), time.monotonic(), len(latencies), preemptions(), len(waited)
        running = False
        snapshot = tracker.snapshot()
        warning = tracker.warn(force=True)
        gevent.killall(greenlets, timeout=5)
        tracker.stop_sampling()
        self.env.events.request.remove_listener(on_request)
        answer: dict[str, Any] = {
            "offered_per_s": rate,
            "phase_seed": seed,
            "achieved_per_s": (n1 - n0) / (t1 - t0),
            "cpu_percent": 100.0 * (c1 - c0) / (t1 - t0),
            "preempted_per_s": round((p1 - p0) / (t1 - t0)),
            "latency_ms": percentiles(latencies[n0:n1]),
            "caller_latency_ms": percentiles(waited[w0:w1]),
            "failures": self.env.stats.total.num_failures,
            "fidelity": snapshot.as_dict(),
            "warning": warning,
        }
        if calls is not None:
            answer["calls"] = calls
        return answer

    def cmd_gc_freeze(self) -> dict[str, Any]:
        """Move every object alive now out of the collector's sight (``gc.freeze()``)."""
        gc.collect()
        gc.freeze()
        return {"frozen": gc.get_freeze_count()}

    def cmd_stop(self) -> dict[str, Any]:
        pool = gevent.pool.Pool(500)
        for cp in self.cps:
            pool.spawn(cp.stop, False)
        pool.join(timeout=60)
        n = len(self.cps)
        self.cps = []
        gc.collect()
        return {"stopped": n, "rss_kib": rss_kib()}


COMMANDS: dict[str, Callable[..., dict[str, Any]]] = {
    "ramp": Harness.cmd_ramp,
    "sample": Harness.cmd_sample,
    "watch": Harness.cmd_watch,
    "timeline": Harness.cmd_timeline,
    "closed_loop": Harness.cmd_closed_loop,
    "open_loop": Harness.cmd_open_loop,
    "stop": Harness.cmd_stop,
    "gc_freeze": Harness.cmd_gc_freeze,
}


def main() -> int:
    harness = Harness()
    stdin = FileObjectPosix(sys.stdin.fileno(), "rb", close=False)
    out = sys.stdout
    out.write(orjson.dumps({"ready": True, "baseline_rss_kib": harness.baseline_rss_kib}).decode() + "\n")
    out.flush()
    for line in stdin:
        if not line.strip():
            continue
        request = orjson.loads(line)
        name = request.pop("cmd")
        if name == "quit":
            break
        try:
            answer = COMMANDS[name](harness, **request)
        except Exception as exc:  # report, keep serving: the orchestrator decides
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        out.write(orjson.dumps(answer).decode() + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
