"""The charger's own periodic work, on event-loop timers: clock-aligned readings, WebSocket pings,
injected faults and their recovery.

None of it holds a greenlet while it waits: a timer of the event loop (a few hundred bytes) fires
and, when there is I/O to do, starts a greenlet that ends with it. A timer is armed only while its
work is on (ClockAlignedDataInterval > 0, WebSocketPingInterval > 0, a fault rate), so an idle
charge point with the defaults holds none. Each timer is a fresh one: a stopped gevent timer is
never started again (in gevent 26 a restarted timer fires early).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import gevent

if TYPE_CHECKING:
    from ocpp_users.ocppj.rpc import OcppConnection
    from ocpp_users.v16.station import Station

DAY = 86400


class Timers:
    """One station's pending timers (None: that work is off)."""

    __slots__ = ("aligned", "fault", "ping", "recoveries")

    def __init__(self) -> None:
        self.aligned: Any = None
        self.ping: Any = None
        self.fault: Any = None
        self.recoveries: dict[int, Any] | None = None

    @staticmethod
    def later(delay: float, callback: Callable[..., object], *args: object) -> Any:
        """A fresh event-loop timer calling ``callback(*args)`` in the hub after ``delay`` seconds
        (the callback must not block: it starts a greenlet for any I/O)."""
        timer = gevent.get_hub().loop.timer(max(0.0, delay))
        timer.start(callback, *args)
        return timer

    def cancel_ping(self) -> None:
        timer, self.ping = self.ping, None
        if timer is not None:
            timer.close()

    def cancel_aligned(self) -> None:
        timer, self.aligned = self.aligned, None
        if timer is not None:
            timer.close()

    def cancel_fault(self) -> None:
        timer, self.fault = self.fault, None
        if timer is not None:
            timer.close()

    def cancel_recovery(self, connector_id: int) -> None:
        recoveries = self.recoveries
        timer = recoveries.pop(connector_id, None) if recoveries is not None else None
        if timer is not None:
            timer.close()

    def cancel_all(self) -> None:
        self.cancel_ping()
        self.cancel_aligned()
        self.cancel_fault()
        for connector_id in list(self.recoveries or ()):
            self.cancel_recovery(connector_id)


def start_clocks(station: Station) -> None:
    """Arm the clock-aligned readings and fault injection once the charger is up (idempotent)."""
    timers = station.timers
    if timers.aligned is None:
        arm_aligned(station)
    if timers.fault is None:
        arm_fault(station)


def on_configuration(station: Station, key: str) -> None:
    """A configuration key changed: the timers that depend on it follow at once."""
    if key == "ClockAlignedDataInterval":
        arm_aligned(station)
    elif key == "WebSocketPingInterval":
        arm_ping(station)


# ---------------------------------------------------------------- clock-aligned readings (§3.16.2)


def next_boundary(now: float, interval: int) -> float:
    """The next ClockAlignedDataInterval boundary after ``now`` (epoch seconds): "the set of evenly
    spaced aggregation intervals per day, starting at 00:00:00 (midnight)" (§9.1.5), UTC."""
    midnight = math.floor(now / DAY) * DAY
    boundary = midnight + (math.floor((now - midnight) / interval) + 1) * interval
    return min(boundary, midnight + DAY)


def arm_aligned(station: Station, after: float | None = None) -> None:
    """Clock-aligned MeterValues at each ClockAlignedDataInterval boundary while that key is above 0
    (errata 3.15: "the Charge Point SHALL send MeterValues at the given interval(s)"). A charger
    whose follow-ups are off (the compliance runner scripts every message) sends none. ``after``:
    the boundary just sent, so the next one is later even when the timer fired a little early."""
    station.timers.cancel_aligned()
    interval = station.configuration.get_int("ClockAlignedDataInterval", 0)
    if interval <= 0 or station.stopping or not station.settings.behaviour.auto_follow_up:
        return
    now = time.time()
    boundary = next_boundary(now if after is None else max(now, after), interval)
    station.timers.aligned = Timers.later(boundary - now, _aligned_due, station, boundary)


def _aligned_due(station: Station, boundary: float) -> None:
    station.timers.aligned = None
    if station.stopping:
        return
    if time.time() < boundary - 0.001:  # the loop's clock ran ahead of the wall clock: not yet
        station.timers.aligned = Timers.later(boundary - time.time(), _aligned_due, station, boundary)
        return
    stamp = datetime.fromtimestamp(boundary, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    station.spawn(station.quietly, lambda: station.aligned_readings(stamp))
    arm_aligned(station, after=boundary)  # never the same boundary twice


# ---------------------------------------------------------------- WebSocket pings (§9.1.34)


def arm_ping(station: Station) -> None:
    """A WebSocket ping every WebSocketPingInterval seconds while connected ("0 disables client side
    websocket Ping/Pong")."""
    station.timers.cancel_ping()
    interval = station.configuration.get_int("WebSocketPingInterval", 0)
    connection = station.connection
    if interval <= 0 or connection is None or connection.closed or station.stopping:
        return
    station.timers.ping = Timers.later(interval, _ping_due, station, connection)


def _ping_due(station: Station, connection: OcppConnection) -> None:
    station.timers.ping = None
    if connection is not station.connection or connection.closed or station.stopping:
        return
    gevent.spawn(_ping, station, connection)
    arm_ping(station)


def _ping(station: Station, connection: OcppConnection) -> None:
    if station.stopping or connection.ping():
        return
    # No pong since the previous ping, a whole WebSocketPingInterval ago: the link is dead (a
    # half-open TCP connection); drop it and reconnect, as a charger's watchdog does.
    if connection is station.connection and not connection.closed:
        station.drop(reason="no WebSocket pong within WebSocketPingInterval", csms_fault=True)


# ---------------------------------------------------------------- injected faults


def arm_fault(station: Station) -> None:
    """The next fault at the rate the settings give (a Poisson process: exponential gaps)."""
    station.timers.cancel_fault()
    rate = station.settings.habits.fault_rate_per_hour
    if rate <= 0 or station.stopping or not station.settings.behaviour.auto_follow_up:
        return
    gap = station.rng.expovariate(rate / 3600.0) / max(station.settings.time_factor, 1e-9)
    station.timers.fault = Timers.later(gap, _fault_due, station)


def _fault_due(station: Station) -> None:
    station.timers.fault = None
    if station.stopping:
        return
    candidates = [cid for cid, c in station.connectors.items() if cid > 0 and c.fault is None]
    if candidates:
        connector_id = station.rng.choice(candidates)
        code = station.rng.choice(station.settings.habits.fault_codes)
        duration = station.draw(station.settings.habits.fault_duration)
        station.spawn(station.quietly, lambda: station.inject_fault(connector_id, code, duration))
    arm_fault(station)


def arm_recovery(station: Station, connector_id: int, duration: float) -> None:
    """The fault on ``connector_id`` clears after ``duration`` seconds."""
    timers = station.timers
    timers.cancel_recovery(connector_id)
    if timers.recoveries is None:
        timers.recoveries = {}
    timers.recoveries[connector_id] = Timers.later(duration, _recovered, station, connector_id)


def _recovered(station: Station, connector_id: int) -> None:
    recoveries = station.timers.recoveries
    if recoveries is not None:
        recoveries.pop(connector_id, None)
    if not station.stopping:
        station.spawn(station.quietly, lambda: station.clear_fault(connector_id))
