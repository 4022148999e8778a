"""The control fleet: a few ordinary charge points heartbeating beside the suite.

Each is an engine :class:`~ocpp_users.v16.station.Station` (its own charge point id, connection
and BootNotification), sending a Heartbeat every ``--fleet-interval`` seconds, one call at a
time as OCPP-J §4.1.1 asks. Every round trip lands in :class:`FleetSink`. After each case (and
its liveness probe) :meth:`ControlFleet.check` makes every control charge point send one more
Heartbeat at once and judges all round trips that started since the case began: a p95 above
``--fleet-max-p95`` or a failure ratio above ``--fleet-max-failures`` makes the case DEGRADED.

Our own stalls are not the CSMS's: a monitor measures how late this process's event loop wakes;
when it stalled past :data:`STALL_MS` during the window, the round trips that overlapped the
stall are set aside (noted) and only the fresh round counts.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import gevent
import gevent.event

from ocpp_users.ocppj.errors import TransportError, VolatileOcppError
from ocpp_users.ocppj.sink import CP_TO_CSMS
from ocpp_users.v16.settings import ChargePointSettings
from ocpp_users.v16.station import Station
from scenarios.results import Check
from scenarios.robustness.options import RobustOptions

STALL_MS = 100.0
MAX_SAMPLES = 100_000


@dataclass(slots=True)
class Sample:
    start: float
    """``time.monotonic()`` when the call went out."""
    ms: float
    ok: bool
    reason: str
    cp_id: str


class FleetSink:
    """A request sink (Locust's ``events.request`` signature) that keeps each CP->CSMS round trip."""

    def __init__(self, cp_id: str, samples: deque[Sample]) -> None:
        self.cp_id = cp_id
        self.samples = samples

    def __call__(
        self,
        *,
        request_type: str,
        name: str,
        response_time: float,
        response_length: int = 0,
        exception: BaseException | None = None,
        context: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if request_type != CP_TO_CSMS:
            return
        end = time.monotonic()
        reason = f"{name}: {exception}" if exception is not None else ""
        self.samples.append(Sample(end - response_time / 1000.0, response_time, exception is None, reason, self.cp_id))


class LagMonitor:
    """How late this process's event loop wakes up (our stalls, never the CSMS's)."""

    def __init__(self, step: float = 0.01) -> None:
        self.step = step
        self.stalls: deque[tuple[float, float]] = deque(maxlen=10_000)
        self._greenlet: gevent.Greenlet | None = None

    def start(self) -> None:
        self._greenlet = gevent.spawn(self._run)

    def _run(self) -> None:
        while True:
            before = time.monotonic()
            gevent.sleep(self.step)
            late = (time.monotonic() - before - self.step) * 1000.0
            if late > STALL_MS:
                self.stalls.append((before, late))

    def stalled(self, since: float) -> list[tuple[float, float]]:
        return [(at, late) for at, late in self.stalls if at + late / 1000.0 >= since]

    def stop(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill(block=False)


def p95(values: list[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


class ControlFleet:
    def __init__(self, options: RobustOptions) -> None:
        self.options = options
        self.samples: deque[Sample] = deque(maxlen=MAX_SAMPLES)
        self.stations: list[Station] = []
        self.wake: list[gevent.event.Event] = []
        self.loops: list[gevent.Greenlet] = []
        self.lag = LagMonitor()
        self.baseline_p95: float | None = None
        self.notes: list[str] = []
        self._running = False

    @property
    def active(self) -> bool:
        return bool(self.stations)

    def start(self) -> None:
        """Connect and boot every control charge point, then heartbeat for ``--fleet-warmup`` seconds."""
        o = self.options
        if o.fleet_size <= 0:
            self.notes.append("control fleet: off (--fleet-size 0): no case can be DEGRADED")
            return
        self.lag.start()
        refused: list[str] = []
        for n in range(1, o.fleet_size + 1):
            cp_id = o.fleet_cp_id_template.format(n=n, cp_id=o.cp_id)
            settings = ChargePointSettings(
                cp_id=cp_id,
                url=o.url,
                security=o.security,
                model="RobustnessControl",
                call_timeout=o.answer_timeout,
                connect_timeout=o.connect_timeout,
                reconnect=True,
                strict=False,
                # One call at a time already (one loop per station); the engine's reused per-connection
                # call timer fired early here under slow answers (reported), a fresh timer per call does not.
                serialize_calls=False,
            )
            station = Station(settings, sink=FleetSink(cp_id, self.samples))
            try:
                station.connect()
                status = station.boot().get("status")
            except (TransportError, VolatileOcppError) as exc:
                refused.append(f"{cp_id}: {exc}")
                station.stop(stop_transactions=False)
                continue
            if status != "Accepted":
                refused.append(f"{cp_id}: BootNotification {status}")
                station.stop(stop_transactions=False)
                continue
            self.stations.append(station)
        if refused:
            self.notes.append("control fleet: not accepted: " + "; ".join(refused))
        if not self.stations:
            self.notes.append("control fleet: none connected and accepted: no case can be DEGRADED")
            self.lag.stop()
            return
        self._running = True
        for station in self.stations:
            event = gevent.event.Event()
            self.wake.append(event)
            self.loops.append(gevent.spawn(self._loop, station, event))
        started = time.monotonic()
        gevent.sleep(o.fleet_warmup)
        self.round()
        warm = [s.ms for s in self.samples if s.start >= started and s.ok]
        self.baseline_p95 = p95(warm)
        self.notes.append(
            f"control fleet: {len(self.stations)} charge points, a Heartbeat each every {o.fleet_interval:g} s; "
            f"warm-up p95 {self.baseline_p95:.1f} ms over {len(warm)} round trips; bounds: p95 <= "
            f"{o.bounds.max_p95_ms:g} ms, failure ratio <= {o.bounds.max_failure_ratio:g}"
        )

    def _loop(self, station: Station, wake: gevent.event.Event) -> None:
        while self._running:
            wake.wait(timeout=self.options.fleet_interval)
            wake.clear()
            if not self._running:
                return
            try:
                station.heartbeat()
            except VolatileOcppError:
                pass  # in the samples already (the sink saw it)
            except Exception:  # a bug of ours must not end the loop silently
                gevent.sleep(self.options.fleet_interval)

    def round(self) -> None:
        """One Heartbeat from every control charge point now; returns when all have completed one
        (bounded by the call timeout)."""
        if not self.stations:
            return
        now = time.monotonic()
        for event in self.wake:
            event.set()
        deadline = now + self.options.answer_timeout + 1.0
        ids = {s.cp_id for s in self.stations}
        while time.monotonic() < deadline:
            done = {s.cp_id for s in self.samples if s.start >= now}
            if ids <= done:
                return
            gevent.sleep(0.005)

    def check(self, since: float) -> Check | None:
        """The fleet's verdict on the window since ``since`` (None without a fleet)."""
        if not self.stations:
            return None
        o = self.options
        fresh_from = time.monotonic()
        self.round()
        window = [s for s in self.samples if s.start >= since]
        stalls = self.lag.stalled(since)
        set_aside = ""
        if stalls:
            worst = max(late for _, late in stalls)
            kept = [s for s in window if s.start >= fresh_from]
            set_aside = (
                f"; {len(window) - len(kept)} round trips during our own stall of {worst:.0f} ms set aside "
                "(harness, not CSMS)"
            )
            window = kept
        if not window:
            return Check("fleet", "control fleet Heartbeats", "", self._expected(), "no round trip completed", ok=False)
        failures = [s for s in window if not s.ok]
        value = p95([s.ms for s in window])
        ratio = len(failures) / len(window)
        ok = value <= o.bounds.max_p95_ms and ratio <= o.bounds.max_failure_ratio
        actual = f"p95 {value:.1f} ms, {len(failures)} of {len(window)} round trips failed{set_aside}"
        if failures:
            actual += f" (first: {failures[0].cp_id} {failures[0].reason})"
        return Check("fleet", "control fleet Heartbeats", "", self._expected(), actual, ok=ok)

    def _expected(self) -> str:
        b = self.options.bounds
        return f"p95 <= {b.max_p95_ms:g} ms and failure ratio <= {b.max_failure_ratio:g}"

    def stop(self) -> None:
        self._running = False
        for event in self.wake:
            event.set()
        for loop in self.loops:
            loop.join(timeout=self.options.answer_timeout + 1.0)
            loop.kill(block=False)
        for station in self.stations:
            station.stop(stop_transactions=False)
        self.lag.stop()

    def summary(self) -> dict[str, Any]:
        return {
            "size": len(self.stations),
            "interval_s": self.options.fleet_interval,
            "baseline_p95_ms": round(self.baseline_p95, 3) if self.baseline_p95 is not None else None,
            "max_p95_ms": self.options.bounds.max_p95_ms,
            "max_failure_ratio": self.options.bounds.max_failure_ratio,
            "round_trips": len(self.samples),
        }
