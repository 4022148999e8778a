"""ChargePointUser: one Locust User is one simulated OCPP 1.6J charge point.

on_start connects (retrying with the engine's backoff while counting every failure), boots
(honouring Pending/Rejected) and reports every connector's status. Then a heartbeat loop and
one session loop per connector run concurrently with the CSMS's calls. Every outcome reaches
Locust through the engine's request events; a loop that dies for an unexpected reason is logged
once, counted, and the charge point is recorded as failed instead of vanishing.

Stopping (the end of ``-t``, Stop in the web UI, a ramp-down, a worker told to stop) is never a
CSMS failure: the loops end by a flag and their calls in flight get their answers, running
sessions end with StopTransaction, the socket closes with a close handshake, all within
``--stop-timeout`` (or :data:`~ocpp_users.v16.station.STOP_GRACE` without one). A call the CSMS
leaves unanswered past that is counted as stopped by the run, apart from the stats.
"""

from __future__ import annotations

import logging
import time
import traceback
from typing import ClassVar

import gevent
import gevent.event
from gevent import GreenletExit
from locust import User, constant, task
from locust.env import Environment
from locust.exception import StopTest, StopUser

from ocpp_users.fleet import storms
from ocpp_users.fleet.claims import ConnectorClaims
from ocpp_users.fleet.config import FleetConfig
from ocpp_users.fleet.ids import IdPool, IdsExhausted
from ocpp_users.fleet.runtime import Fleet
from ocpp_users.fleet.sessions import SessionPlan
from ocpp_users.fleet.state import Member, fleet_state
from ocpp_users.ocppj.errors import CallCancelled, ConnectionLost, TransportError, VolatileOcppError
from ocpp_users.ocppj.sink import report
from ocpp_users.v16.state.status import ChargePointStatus
from ocpp_users.v16.station import SHARED_RNG, STOP_GRACE, Station

log = logging.getLogger("ocpp_users.fleet")

S = ChargePointStatus
FLEET = "VolatileOCPP"
"""request_type of the fleet's own events (a charge point recorded as failed)."""
PASS_THROUGH: tuple[type[BaseException], ...] = (GreenletExit, StopUser, StopTest, KeyboardInterrupt, SystemExit)
"""Exceptions that end a User the Locust way; everything else is caught, logged once and counted."""


class FleetFailure(Exception):
    """Why a charge point stopped working; the reason names no charge point."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "charge point failed"


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return ""
    last = frames[-1]
    return f" at {last.filename.rsplit('/', 1)[-1]}:{last.lineno}"


class ChargePointUser(User):
    """One simulated OCPP 1.6J charge point (abstract: the locustfile picks a concrete subclass)."""

    abstract = True
    wait_time = constant(0)
    _logged_crashes: ClassVar[set[str]] = set()

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self.fleet = Fleet.of(environment)
        self.config: FleetConfig | None = None
        self.cp: Station | None = None
        """The simulated charge point, once on_start has built it."""
        self.claims: ConnectorClaims | None = None
        """Which of its connectors a session may start on (the loop's or a remote start's)."""
        self.cp_id: str | None = None
        self.failed: str | None = None
        """Why this charge point stopped working, when it did."""
        self.rng = SHARED_RNG
        self.member: Member | None = None
        """This charge point in the fleet's counts (from on_start until on_stop)."""
        self._pool: IdPool | None = None
        self._plans: list[SessionPlan] = []
        self._wake = gevent.event.Event()
        """Set when a loop crashed or Locust asked the user to stop."""
        self._stop_deadline: float | None = None
        """When the charge point must have ended (set when Locust asks the user to stop)."""
        self._forced = False
        self._ended = gevent.event.Event()
        """Set once the task has ended the charge point."""

    # ------------------------------------------------------------ life cycle

    def on_start(self) -> None:
        """Connect, boot, report statuses; a failure is recorded, never raised (no traceback)."""
        self.member = fleet_state(self.environment).join()
        try:
            self._start()
        except PASS_THROUGH:
            raise
        except BaseException as exc:
            self._record_failure("charge point", exc)
            self._stop_cp()

    @task
    def operate(self) -> None:
        """The heartbeat and session loops until Locust asks the user to stop (or a loop crashes);
        then the charge point is ended gracefully here, and on_stop has nothing left to do."""
        try:
            if self.failed is None and (self.cp is None or not self.cp.stopping):
                self._run_loops()
        except PASS_THROUGH:
            raise
        except BaseException as exc:
            self._record_failure("charge point", exc)
        self._stop_cp()
        self._ended.set()
        while self._stop_deadline is None:  # a failed charge point stays counted until Locust stops the user
            self._wake.clear()
            self._wake.wait()
        if self._forced:
            gevent.event.Event().wait()  # Locust kills the user now (then on_stop, which has nothing left to do)

    def stop(self, force: bool = False) -> bool:
        """Locust asks the user to stop. Either way the running task ends the charge point first
        (its calls in flight answered, sessions stopped, a clean close): with ``--stop-timeout``
        Locust waits for the task up to that long; without one (``force``) the user is killed once
        the charge point has ended, or after :data:`~ocpp_users.v16.station.STOP_GRACE`."""
        first = self._stop_deadline is None
        if first:
            # Locust kills the user when --stop-timeout is over: end a little before, so that the
            # close handshake is ours, not cut short.
            stop_timeout = float(self.environment.stop_timeout or 0)
            grace = 0.9 * stop_timeout if stop_timeout else STOP_GRACE
            self._stop_deadline = time.monotonic() + grace
        self._forced = self._forced or force
        if self.cp is not None:
            self.cp.begin_stop()  # the heartbeat loop returns, the task ends the charge point
        self._wake.set()
        deadline = self._stop_deadline
        running = self.greenlet is not None and not self.greenlet.dead and self.greenlet is not gevent.getcurrent()
        if force and running and deadline is not None:
            self._ended.wait(timeout=max(0.0, deadline - time.monotonic()) + 1.0)
        return bool(super().stop(force))

    def on_stop(self) -> None:
        """End the charge point (if the task has not), then leave the fleet's counts."""
        try:
            self._stop_cp()
        finally:
            if self.member is not None:
                fleet_state(self.environment).leave(self.member)
            if self._pool is not None and self.cp_id is not None:
                self._pool.release(self.cp_id)
                self._pool = None

    def _start(self) -> None:
        config = self.fleet.ensure_configured()
        if config is None:
            raise FleetFailure(f"not started: {self.fleet.error}")
        self.config = config
        pool = self.fleet.ids
        assert pool is not None
        try:
            self.cp_id = pool.acquire()
        except IdsExhausted as exc:
            raise FleetFailure(f"no charge point id: {exc}") from None
        self._pool = pool
        settings = config.settings_for(self.cp_id, self.fleet.url)
        state = fleet_state(self.environment)
        # the member counts its charge point's outcomes for the per-charge-point table, then fires the event
        sink = state.sink(self.member) if self.member is not None else self.environment.events.request.fire
        self.cp = Station(settings, sink=sink)
        self.claims = ConnectorClaims(self.cp)
        self.cp.schedule_observer = self.fleet.fidelity.observe  # heartbeats and meter values: due vs on time
        if self.member is not None:
            state.attach(self.member, self.cp, self.claims)
        if self._stop_deadline is not None:
            return  # asked to stop before the station existed
        self._connect()
        storms.hold_boot(self.environment)  # a boot storm releases all boots at once
        self._boot()
        self._report_statuses()

    def _stop_cp(self) -> None:
        """End the charge point by the stop deadline: loops by their flag, sessions with
        StopTransaction, a clean close; idempotent (the task and on_stop may both call it)."""
        cp = self.cp
        if cp is None:
            return
        deadline = self._stop_deadline
        if deadline is None:  # a crash, not a stop: end now, with the default grace
            deadline = time.monotonic() + STOP_GRACE
        for plan in self._plans:
            plan.cancel()
        try:
            cp.stop(stop_transactions=True, deadline=deadline)
        except PASS_THROUGH:
            raise
        except BaseException as exc:
            self._record_failure("stop", exc)

    # ------------------------------------------------------------ start-up

    def _connect(self) -> None:
        """Connect; a failure is counted by the engine, then retried with its backoff."""
        cp = self.cp
        assert cp is not None
        next_delay = cp.backoff_delays()
        while not cp.stopping:
            try:
                cp.connect()
                return
            except TransportError:
                cp.wait_stopping(next_delay())

    def _boot(self) -> None:
        """BootNotification until Accepted (Pending/Rejected wait ``interval``, answering the CSMS
        meanwhile); after a drop the engine's reconnect loop boots and this waits for it."""
        cp = self.cp
        assert cp is not None
        while cp.registration != "Accepted" and not cp.stopping:
            if cp.reconnecting:
                cp.wait_stopping(0.5)
                continue
            if cp.closing:  # a drop or close is under way: a boot now would be stopped at once, again and again
                cp.wait_stopping(0.05)
                continue
            if not cp.connected:
                cp.reconnect_in_background()
                cp.wait_stopping(0.5)
                continue
            try:
                cp.boot_until_accepted()
            except (ConnectionLost, CallCancelled):
                continue  # dropped (by the CSMS or a storm): the engine reconnects and boots in the background
            except VolatileOcppError:
                cp.wait_stopping(cp.settings.boot_retry_default)  # timeout, CALLERROR, schema: counted already

    def _report_statuses(self) -> None:
        """StatusNotification for connector 0 and every connector."""
        cp = self.cp
        assert cp is not None
        for cid, connector in cp.connectors.items():
            if cp.stopping:
                return
            try:
                cp.status_notification(cid, connector.status, connector.error_code)
            except ConnectionLost:
                return
            except VolatileOcppError:
                continue  # counted already

    # ------------------------------------------------------------ loops

    def _run_loops(self) -> None:
        """Sessions start by timers (an idle connector holds no greenlet); the heartbeat loop runs
        here, in the user's own greenlet, until a stop begins or a session crashed."""
        cp, config, claims = self.cp, self.config, self.claims
        assert cp is not None and config is not None and claims is not None
        self._plans = [SessionPlan(cp, claims, config, cid, self._crashed) for cid in cp.connectors if cid > 0]
        for plan in self._plans:
            plan.start()
        cp.run_heartbeats()  # returns once the charge point begins to stop

    def _crashed(self, what: str, exc: BaseException) -> None:
        """A loop died for a reason of ours: count it, and end the charge point."""
        self._record_failure(what, exc)
        if self.cp is not None:
            self.cp.begin_stop()
        self._wake.set()

    # ------------------------------------------------------------ failures

    def _record_failure(self, what: str, exc: BaseException) -> None:
        """Log one line (first occurrence of each kind only) and count the failure."""
        if isinstance(exc, FleetFailure):
            reason = str(exc)
            detail = reason
        else:
            reason = f"{what} crashed: {type(exc).__name__}{_where(exc)}"
            detail = f"{reason}: {exc}"
        self.failed = reason
        if self.member is not None:
            fleet_state(self.environment).fail(self.member)
        if not isinstance(exc, FleetFailure) and reason not in ChargePointUser._logged_crashes:
            ChargePointUser._logged_crashes.add(reason)  # one line per kind, not one per charge point
            log.error("charge point %s: %s (further ones are counted, not logged)", self.cp_id, detail)
        log.debug("charge point %s: %s", self.cp_id, detail, exc_info=not isinstance(exc, FleetFailure))
        report(self.environment.events.request.fire, FLEET, "charge point failed", exception=FleetFailure(reason))
