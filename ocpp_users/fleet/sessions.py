"""The charging sessions of one fleet connector: idle, a session, idle, ... started by timers.

An idle connector holds no greenlet: a timer of the event loop fires when the idle time is over
and starts the session (its own greenlet, gone when the session ends), whose end arms the next
timer. A parked greenlet costs about 8 KiB of memory; a timer a few hundred bytes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

import gevent
from gevent import GreenletExit

from ocpp_users.fleet.claims import ConnectorClaims
from ocpp_users.fleet.config import FleetConfig
from ocpp_users.v16.station import SHARED_RNG, Station

log = logging.getLogger("ocpp_users.fleet")

CONNECTOR_POLL = 1.0
"""Seconds before trying again while a connector is reserved, unavailable or the station not booted."""


class Crash(Protocol):
    def __call__(self, what: str, exc: BaseException) -> None: ...


class SessionPlan:
    """Sessions on one connector of a fleet charge point, one after another."""

    __slots__ = ("_timer", "claims", "config", "connector_id", "crashed", "station")

    def __init__(
        self,
        station: Station,
        claims: ConnectorClaims,
        config: FleetConfig,
        connector_id: int,
        crashed: Crash,
    ) -> None:
        self.station = station
        self.claims = claims
        self.config = config
        self.connector_id = connector_id
        self.crashed = crashed
        """Called when a session ends with an error that is ours, not the CSMS's (a bug)."""
        self._timer: object | None = None

    def start(self) -> None:
        """The first idle time, then the first session."""
        self._arm(self._draw(self.config.idle_duration))

    def cancel(self) -> None:
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.close()  # type: ignore[attr-defined]

    def _draw(self, bounds: tuple[float, float]) -> float:
        return SHARED_RNG.uniform(*bounds) / self.config.time_factor

    def _arm(self, delay: float, then: Callable[[], None] | None = None) -> None:
        self.cancel()
        if self.station.stopping:
            return
        timer = gevent.get_hub().loop.timer(max(0.0, delay))
        timer.start(then or self._due)
        self._timer = timer

    def _due(self) -> None:
        """In the event loop: start the session when the connector is free (nothing may block here)."""
        self._timer = None
        station = self.station
        if station.stopping:
            return
        try:
            if not self.claims.connector_free(self.connector_id):
                busy = station.connectors[self.connector_id].session
                if busy is not None and not busy.dead:
                    busy.link(self._ended)  # a session the CSMS started remotely: idle after it
                else:
                    self._arm(CONNECTOR_POLL)
                return
            config = self.config
            reason = config.stop_reason
            if reason == "mixed":
                reason = SHARED_RNG.choice(("Local", "EVDisconnected"))
            session = station.start_session(
                self.connector_id,
                SHARED_RNG.choice(config.id_tags),
                self._draw(config.session_duration),
                default_stop_reason=reason,
            )
            session.link(self._ended)
        except Exception as exc:  # a bug here must not print a traceback from the event loop
            self.crashed("session loop", exc)

    def _ended(self, session: gevent.Greenlet) -> None:
        failure = session.exception
        if failure is not None and not isinstance(failure, GreenletExit):
            self.crashed("session loop", failure)
            return
        if not self.station.stopping:
            self._arm(self._draw(self.config.idle_duration))
