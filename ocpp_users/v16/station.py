"""The OCPP 1.6 station: a charger's state, its link to the CSMS and its answers, put together.

:class:`Station` composes three objects: :class:`~ocpp_users.v16.state.StationState` (what the
charger remembers), :class:`~ocpp_users.v16.link.Link` (its connection) and
:class:`~ocpp_users.v16.answers.Answers` (how it answers CSMS calls, one object per feature
profile). The station itself is the runtime that ties them together: it boots and reboots,
sends the charge-point-initiated messages, keeps the heartbeat going, runs charging sessions
and reconnects after a drop.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Protocol

import gevent
import gevent.event
from cryptography import x509

from ocpp_users.ocppj import pacing
from ocpp_users.ocppj.errors import (
    CallCancelled,
    ConnectionLost,
    IllegalStatusChange,
    RejectedError,
    TransportError,
    VolatileOcppError,
)
from ocpp_users.ocppj.logs import RateLimitedLog
from ocpp_users.ocppj.rpc import CheckAnswer, OcppConnection, Payload, WireLog
from ocpp_users.ocppj.sink import CP_TO_CSMS, WEBSOCKET, RequestSink, null_sink, report
from ocpp_users.ocppj.text import sanitize
from ocpp_users.ocppj.transport import SecurityConfig
from ocpp_users.v16 import periodic
from ocpp_users.v16.answers import Answers, InboundCall
from ocpp_users.v16.link import Link
from ocpp_users.v16.security_events import SecurityEvents
from ocpp_users.v16.sessions import id_tag_status, run_session
from ocpp_users.v16.settings import ChargePointSettings
from ocpp_users.v16.state import StationState
from ocpp_users.v16.state.config import Configuration
from ocpp_users.v16.state.connectors import Connector
from ocpp_users.v16.state.meter import utc_now
from ocpp_users.v16.state.status import ChargePointStatus, IllegalTransition, check_transition
from ocpp_users.v16.state.transaction import Transaction
from ocpp_users.v16.transactions import RETRYABLE, ReplayCounts, TransactionMessages, TxMessage

log = logging.getLogger(__name__)
limited = RateLimitedLog(log)

S = ChargePointStatus

ScheduleObserver = Callable[[str, float, float], object]
"""``observer(kind, since, interval)``: a periodic ``kind`` message ("Heartbeat", "MeterValues") is
about to be sent; it was due at ``since + interval`` (``time.monotonic()`` seconds)."""

SHARED_RNG = random.Random()
"""The random source of every station of the process unless one is given (a ``Random`` holds 2.5 KB
of state: one per charge point would be a tenth of a fleet charge point's memory)."""

STOP_GRACE = 10.0
"""Seconds :meth:`Station.stop` gives in-flight calls and sessions when the caller sets no deadline."""


class StationWatcher(Protocol):
    """Who follows a station's life as it happens (the fleet keeps its counts with it: no polling)."""

    def changed(self, station: Station) -> None:
        """Its phase, connection, registration or charging changed."""
        ...

    def call_stopped(self, station: Station, action: str) -> None:
        """The harness stopped one of its calls (a run ending, a kill, its own close)."""
        ...


class Phase:
    """Where a charge point is in its life, for the fleet's "Charge points" view."""

    idle = "idle"
    connecting = "connecting"
    booting = "booting"
    pending = "pending"
    booted = "booted"
    reconnecting = "reconnecting"
    failed = "failed"
    stopped = "stopped"


_ID_TAG_STATUSES = frozenset({"Blocked", "Expired", "Invalid", "ConcurrentTx"})
"""AuthorizationStatus values other than Accepted (OCPP 1.6 §7.2): a rejection names one of these,
or says "with another status" (a CSMS's made-up value, possible with validation off, is no row name)."""


def _not_accepted(what: str) -> CheckAnswer:
    def check(result: Payload) -> str | None:
        status = id_tag_status(result)
        if status == "Accepted":
            return None
        return f"{what} {status}" if status in _ID_TAG_STATUSES or status is None else f"{what} with another status"

    return check


def _boot_check(result: Payload) -> str | None:
    return "BootNotification Rejected" if result.get("status") == "Rejected" else None


def _measurands(value: str | None) -> list[str]:
    """A MeterValues measurand list; empty means Energy.Active.Import.Register (OCTT TC_070_CS and
    TC_071_CS: "When the value ... is empty the measurand Energy.Active.Import.Register is assumed")."""
    return _listed(value) or ["Energy.Active.Import.Register"]


def _listed(value: str | None) -> list[str]:
    """The measurands a key lists (a StopTxn list may be empty: §3.16.5, then no readings)."""
    return [item.strip() for item in (value or "").split(",") if item.strip()]


class Station:
    """One simulated OCPP 1.6J charge point."""

    def __init__(
        self,
        settings: ChargePointSettings,
        sink: RequestSink = null_sink,
        wire_log: WireLog | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.cp_id = settings.cp_id
        self.sink = sink
        self.rng = rng or SHARED_RNG
        """Backoff jitter and meter values draw from it."""
        self.timers = periodic.Timers()
        """The event-loop timers of the charger's own periodic work (clock-aligned readings, pings,
        faults): none while that work is off, so an idle charge point holds no greenlet for it."""
        self.state = StationState(
            settings.connectors,
            settings.configuration,
            settings.power_range_w,
            settings.time_factor,
            self.rng,
            settings.habits.battery_wh,
        )
        self.state.ca_file = settings.security.ca_file
        self.state.manufacturer_file = settings.manufacturer_roots
        self.state.configuration.set_internal("SecurityProfile", str(settings.security.profile))
        self.state.configuration.listen(self._on_configuration_change)
        self.security_events = SecurityEvents(self)
        """The security log's events and their notifications (the security whitepaper, A04)."""
        self.answers = Answers(self)
        """How this charger answers CSMS calls: one object per feature profile."""
        self.watcher: StationWatcher | None = None
        """Told of every change of phase, connection, registration and charging (None: nobody)."""
        self.link = Link(settings, self.answers, sink, wire_log, self._on_close, self._on_open, self._call_stopped)
        self._registration: str | None = None
        self._phase = Phase.idle
        self.heartbeat_interval = float(self.configuration.get_int("HeartbeatInterval", 300))
        self.calls_stopped = 0
        """Calls the harness itself stopped (never CSMS failures; see :class:`CallCancelled`)."""
        self.drops = 0
        self.reconnects = 0
        self.last_error: str | None = None
        self.observers: list[Callable[[InboundCall], None]] = []
        """Called with every CSMS-initiated call once it is answered (the compliance runner waits on it)."""
        self.schedule_observer: ScheduleObserver | None = None
        """Called just before each periodic send (heartbeat and meter values loops) with the message's
        schedule, so that a load generator can count messages sent late (None: nobody watches)."""
        self._stopping = False
        self._stop_requested = gevent.event.Event()
        self._interval_changed = gevent.event.Event()
        self._reconnector: gevent.Greenlet | None = None
        self._rebooting: gevent.Greenlet | None = None
        self._greenlets: list[gevent.Greenlet] = []
        self.firmware_version = settings.firmware_version
        """firmwareVersion of the next BootNotification (a successful UpdateFirmware changes it)."""
        self._tx_messages: TransactionMessages | None = None
        self._offline_until = 0.0
        self._report_after_replay = False

    # ------------------------------------------------------------ what a watcher follows

    @property
    def phase(self) -> str:
        """Where the charge point is in its life (a :class:`Phase` value)."""
        return self._phase

    @phase.setter
    def phase(self, value: str) -> None:
        if value != self._phase:
            self._phase = value
            self._changed()

    @property
    def registration(self) -> str | None:
        """Status of the last BootNotification.conf: Accepted, Pending or Rejected (None before)."""
        return self._registration

    @registration.setter
    def registration(self, value: str | None) -> None:
        if value != self._registration:
            self._registration = value
            self._changed()

    @property
    def charging(self) -> bool:
        """A transaction runs on one of its connectors."""
        return self.state.charging()

    @property
    def late_answers(self) -> int:
        """Answers that came for calls already accounted for (timed out or stopped by the harness)."""
        return self.link.late_answers

    def watch(self, watcher: StationWatcher) -> None:
        """Tell ``watcher`` of every change from now on (one watcher per station)."""
        self.watcher = watcher
        self.state.watch_charging(self._changed)
        watcher.changed(self)

    def _changed(self) -> None:
        watcher = self.watcher
        if watcher is not None:
            watcher.changed(self)

    def _on_open(self) -> None:
        periodic.arm_ping(self)
        periodic.start_clocks(self)
        self._changed()

    def _call_stopped(self, action: str) -> None:
        self.calls_stopped += 1
        watcher = self.watcher
        if watcher is not None:
            watcher.call_stopped(self, action)

    # ------------------------------------------------------------ the state, by its usual names

    @property
    def connectors(self) -> dict[int, Connector]:
        return self.state.connectors

    @property
    def configuration(self) -> Configuration:
        return self.state.configuration

    # ------------------------------------------------------------ connection

    @property
    def url(self) -> str:
        return self.link.url

    @property
    def connection(self) -> OcppConnection | None:
        return self.link.connection

    @property
    def connected(self) -> bool:
        return self.link.connected

    @property
    def closing(self) -> bool:
        """The connection is still open but on its way to closed (every call on it is stopped or
        lost at once): wait for it to go rather than call on it."""
        connection = self.link.connection
        return connection is not None and not connection.closed and connection.ending

    def connect(self, name: str = "connect") -> None:
        """Open the WebSocket (security profile from the settings); raise TransportError on failure."""
        self.phase = Phase.connecting if name == "connect" else Phase.reconnecting
        try:
            self.link.connect(name)
        except TransportError as exc:
            self.last_error = exc.reason
            self.security_events.on_connect_failed(exc)
            raise
        self._connected_securely()
        if self.registration == "Accepted":
            self.security_events.flush()  # notifications queued while offline (A04.FR.02)

    def _connected_securely(self) -> None:
        """M05.FR.12: a TLS connection verified by a new CentralSystemRootCertificate ends its
        fallback (only where the CSMS installed roots: the others have none to drop)."""
        der = self.link.peer_certificate
        store = self.state._certificates
        if der is None or store is None or not store.changed:
            return
        try:
            peer = x509.load_der_x509_certificate(der)
        except ValueError:
            return
        if store.connected_with(peer):
            self.link.use(replace(self.link.security, ca_data=store.trusted_pem()))

    def renew_connection(
        self,
        reason: str,
        fallback: SecurityConfig | None = None,
        fallback_url: str | None = None,
        on_fallback: Callable[[], object] | None = None,
    ) -> bool:
        """Close the connection and connect again with the link's (new) credentials: a new
        AuthorizationKey (A01 step 3-4), a new client certificate (A02.FR.08), a higher security
        profile (A05.FR.06/07). When that fails twice and ``fallback`` is given, go back to it
        (A05.FR.08, A02.FR.10), call ``on_fallback`` and connect with it. Without a connection at
        the end the reconnect loop takes over. True when connected with the new credentials."""
        if self._stopping:
            return False
        if self.reconnecting:
            return False  # the reconnect loop connects with the new credentials
        log.debug("%s: reconnecting (%s)", self.cp_id, reason)
        self.link.quiet(self.settings.call_timeout)  # "Storing any queued messages" (A01 step 3)
        self.link.close()
        renewed = False
        for attempt in range(2):
            if attempt and self.wait_stopping(self.settings.backoff_initial):
                return False
            if self._stopping:
                return False
            try:
                self.connect(name="reconnect")
                renewed = True
                break
            except TransportError:
                continue
        if not renewed and fallback is not None and not self._stopping:
            self.link.use(fallback, fallback_url)
            if on_fallback is not None:
                on_fallback()
            try:
                self.connect(name="reconnect")
            except TransportError:
                pass
        if not self.connected:
            self.reconnect_in_background()
            return False
        self.reconnects += 1
        if self.registration != "Accepted":
            self.spawn(self.quietly, self._boot_and_resume)
        else:
            self.phase = Phase.booted
            self.back_online()
        return renewed

    def wait_connected(self, timeout: float | None = None) -> bool:
        return self.link.wait_connected(timeout)

    def _on_close(self, reason: str, by_us: bool) -> None:
        self.timers.cancel_ping()
        self._changed()
        if by_us or self._stopping:
            return
        self.drops += 1
        self.last_error = reason
        dropped = ConnectionLost(f"connection dropped: {reason}")
        connection = self.link.connection
        if connection is not None and connection.close_detail:
            dropped.with_detail(connection.close_detail)
        report(self.sink, WEBSOCKET, "disconnect", exception=dropped)
        # A reboot under way reconnects itself (one connection per charge point).
        if self.settings.reconnect and not self.reconnecting:
            self._reconnector = gevent.spawn(self._reconnect_loop)

    def backoff_delays(self) -> Callable[[], float]:
        """Exponential backoff with jitter, bounded by ``backoff_max``."""
        return self.link.backoff_delays(self.rng)

    @property
    def rebooting(self) -> bool:
        """True while a reboot (Reset, a firmware update) is under way: it closes, reconnects, boots."""
        return self._rebooting is not None and not self._rebooting.dead

    @property
    def reconnecting(self) -> bool:
        """True while the background reconnect (and the boot that follows it), or a reboot, is under way."""
        return (self._reconnector is not None and not self._reconnector.dead) or self.rebooting

    def reconnect_in_background(self) -> None:
        """Start the reconnect loop unless it (or a reboot, which reconnects itself) runs already, or
        the charge point is stopping: one reconnect at a time, so one connection."""
        if not self._stopping and not self.reconnecting:
            self._reconnector = gevent.spawn(self._reconnect_loop)

    def _reconnect_loop(self) -> None:
        """Reconnect with backoff, then boot again if the last boot was not Accepted.

        A drop during that boot backs off and reconnects again (the drop's ``_on_close`` finds
        this loop alive and leaves it to it); any other boot failure (timeout, CALLERROR) is
        retried after ``boot_retry_default`` while the connection lasts.
        """
        next_delay = self.backoff_delays()
        while not self._stopping and not self.rebooting:
            self.phase = Phase.reconnecting
            outage = self._offline_until - time.monotonic()
            if outage > 0 and self.wait_stopping(outage):
                return  # kept offline (a network outage): no attempt before it is over
            if self.wait_stopping(next_delay()) or self.rebooting:
                return  # stopping, or a reboot that began meanwhile reconnects itself
            try:
                self.connect(name="reconnect")
            except TransportError:
                continue
            self.reconnects += 1
            while not self._stopping and self.connected:
                if self.registration == "Accepted":
                    self.phase = Phase.booted
                    self.back_online()
                    return
                try:
                    self.boot_until_accepted()
                    self.back_online()
                    return
                except (ConnectionLost, CallCancelled) as exc:  # dropped again (by the CSMS or a storm)
                    self.last_error = exc.reason
                    break
                except VolatileOcppError as exc:
                    self.last_error = exc.reason
                    self.wait_stopping(self.settings.boot_retry_default)

    def close(self, wait: float = 2.0) -> None:
        """Close the connection cleanly without reconnecting (waiting up to ``wait`` s for the
        CSMS's close frame)."""
        self.link.close(wait)

    def drop(self, offline_for: float = 0.0, reason: str = "dropped on purpose", *, csms_fault: bool = False) -> bool:
        """Drop the connection as a network fault would; reconnect follows if enabled, not before
        ``offline_for`` seconds (an outage: meanwhile the charger works offline, OCPP 1.6 §3.5).

        A drop the run makes (a storm) is the harness's own doing: no failure is counted, and the
        calls in flight are stopped by the run. With ``csms_fault`` (the CSMS stopped answering
        pings) the drop is a counted disconnect and the calls in flight are lost connections. Returns
        whether there was a connection to drop (one closed or closing already is left alone)."""
        connection = self.link.connection
        if connection is None or connection.closed or connection.ending:
            return False  # nothing to drop, or already ending (by us or the CSMS's doing): not this drop's
        if offline_for > 0:
            self._offline_until = time.monotonic() + offline_for
        if csms_fault:
            self.link.abort(reason, by_us=False)  # -> _on_close(reason, False): counted, reconnects
            return True
        self.link.abort(reason)  # -> _on_close(reason, True): nothing counted
        self.drops += 1
        if self.settings.reconnect and not self._stopping and not self.reconnecting:
            self._reconnector = gevent.spawn(self._reconnect_loop)
        return True

    @property
    def offline_for(self) -> float:
        """Seconds the charge point is still kept offline by :meth:`drop` (0: none)."""
        return max(0.0, self._offline_until - time.monotonic())

    # ------------------------------------------------------------ offline (OCPP 1.6 §3.5, §3.7)

    @property
    def transaction_messages(self) -> TransactionMessages:
        """Transaction-related messages: sent in order, queued while offline (made on first use)."""
        messages = self._tx_messages
        if messages is None:
            messages = self._tx_messages = TransactionMessages(self)
        return messages

    @property
    def queued_messages(self) -> int:
        """Transaction-related messages waiting to be delivered."""
        messages = self._tx_messages
        return messages.backlog if messages is not None else 0

    @property
    def replay_counts(self) -> ReplayCounts:
        """The transaction messages that waited in the queue (offline or behind others), were
        replayed from it, and when the last replay ran, since the start."""
        messages = self._tx_messages
        if messages is None:
            return ReplayCounts(0, 0, 0, 0, 0, 0, 0, None, None)
        return messages.counts

    @property
    def online(self) -> bool:
        """Connected and Accepted by the CSMS: messages other than BootNotification may go out."""
        return self.connected and self.registration == "Accepted"

    def _boot_and_resume(self) -> None:
        self.boot_until_accepted()
        self.back_online()

    def back_online(self) -> None:
        """Connected (and booted, where that was needed) again: deliver what was queued, then report
        the connector statuses that changed meanwhile (OCTT TC_037_1_CS: the StartTransaction,
        then StatusNotification Charging)."""
        messages = self._tx_messages
        if messages is not None and messages.backlog:
            self._report_after_replay = True
            messages.kick()
        else:
            self.report_changed_statuses()

    def queue_emptied(self) -> None:
        """The replay delivered the last queued message."""
        if self._report_after_replay:
            self._report_after_replay = False
            self.quietly(self.report_changed_statuses)
        self._changed()

    def report_changed_statuses(self) -> None:
        """StatusNotification for each connector whose status changed since the CSMS last heard of
        it (a change made offline); a failure is counted and ends the round. Not with follow-ups
        off: the compliance runner scripts every message itself."""
        if not self.settings.behaviour.auto_follow_up:
            return
        for cid, connector in list(self.connectors.items()):
            if connector.reported_status is not None and connector.reported_status != connector.status:
                if not self.online:
                    return
                try:
                    self.status_notification(cid, connector.status, connector.error_code)
                except VolatileOcppError:
                    return

    def report_status(
        self,
        connector_id: int,
        status: ChargePointStatus | str,
        error_code: str = "NoError",
        info: str | None = None,
    ) -> None:
        """Move the connector to ``status`` and tell the CSMS when online; offline the change is
        kept and reported after reconnecting (:meth:`back_online`). A refused transition raises
        :class:`IllegalStatusChange`; other failures are counted and raised as the call did."""
        status = ChargePointStatus(status)
        if self.online:
            try:
                self.status_notification(connector_id, status, error_code, info)
            except ConnectionLost:
                pass  # the change stays unreported until the next connection
            return
        if not self.set_status(connector_id, status, error_code):
            old = self.connectors[connector_id].status
            raise IllegalStatusChange(f"not sent: {old} -> {status} is not a legal 1.6 status transition")

    # ------------------------------------------------------------ calls

    def call(
        self,
        action: str,
        payload: Payload,
        check: CheckAnswer | None = None,
        timeout: float | None = None,
    ) -> Payload:
        """One CALL; rejections named by ``check`` count as failures when the settings are strict."""
        return self.link.call(action, payload, check if self.settings.strict else None, timeout)

    def boot(self) -> Payload:
        payload: Payload = {
            "chargePointVendor": self.settings.vendor[:20],
            "chargePointModel": self.settings.model[:20],
            "firmwareVersion": self.firmware_version[:50],
        }
        if self.settings.serial_number:
            payload["chargePointSerialNumber"] = self.settings.serial_number[:25]
        if self.registration is None:
            self.security_events.startup_pending = True  # a start or a reboot: the device boots
        self.phase = Phase.booting
        try:
            result = self.call("BootNotification", payload, check=_boot_check)
        except RejectedError:
            self.registration = "Rejected"
            self.phase = Phase.pending
            raise
        self.registration = result.get("status")
        interval = result.get("interval")
        if self.registration == "Accepted":
            self.phase = Phase.booted
            if isinstance(interval, int) and interval > 0:
                # The Boot's interval (§4.2) sets the key; --heartbeat-interval still rules over it.
                self.configuration.set_internal("HeartbeatInterval", str(interval), notify=False)
                self.heartbeat_interval = float(interval)
                self._interval_changed.set()
            self.security_events.on_booted()
            if self._tx_messages is not None:
                self._tx_messages.kick()  # queued transaction messages may go now (§4.2)
        else:
            self.phase = Phase.pending
        return result

    def boot_until_accepted(self, max_attempts: int | None = None) -> Payload:
        """BootNotification until Accepted; while Pending/Rejected wait ``interval`` between tries.

        From the specification: "While in pending state ... the Central System MAY send messages
        to the Charge Point"; the handlers keep answering while this waits.
        """
        attempts = 0
        while True:
            attempts += 1
            try:
                result = self.boot()
            except RejectedError as exc:  # Rejected in strict mode; any other failure propagates
                payload = exc.payload
                if not isinstance(payload, dict) or (max_attempts is not None and attempts >= max_attempts):
                    raise
                result = payload
                self.registration = result.get("status")
                self.phase = Phase.pending
            if self.registration == "Accepted":
                return result
            if max_attempts is not None and attempts >= max_attempts:
                return result
            interval = result.get("interval")
            wait = float(interval) if isinstance(interval, int) and interval > 0 else self.settings.boot_retry_default
            self.wait_stopping(wait)
            if self._stopping or not self.connected:
                raise ConnectionLost("connection lost: while waiting to boot")

    def heartbeat(self) -> Payload:
        return self.call("Heartbeat", {})

    def authorize(self, id_tag: str) -> Payload:
        """Authorize.req; its IdTagInfo updates the authorization cache (§4.1), also when the CSMS
        refuses the idTag (strict mode raises RejectedError then, as the call did)."""
        try:
            result = self.call("Authorize", {"idTag": id_tag}, check=_not_accepted("Authorize"))
        except RejectedError as exc:
            if isinstance(exc.payload, dict):
                self.state.authorization.remember(id_tag, exc.payload.get("idTagInfo"))
            raise
        self.state.authorization.remember(id_tag, result.get("idTagInfo"))
        return result

    def set_status(self, connector_id: int, status: ChargePointStatus, error_code: str = "NoError") -> bool:
        """Change a connector's status in the model; False when the 1.6 table forbids it."""
        connector = self.connectors[connector_id]
        try:
            check_transition(connector_id, connector.status, status)
        except IllegalTransition as exc:
            log.debug("%s: %s", self.cp_id, exc)
            return False
        connector.status = status
        connector.error_code = error_code
        return True

    def status_notification(
        self,
        connector_id: int,
        status: ChargePointStatus | str,
        error_code: str = "NoError",
        info: str | None = None,
    ) -> Payload:
        """Move the connector to ``status`` (checked against the 1.6 table) and report it."""
        status = ChargePointStatus(status)
        if not self.set_status(connector_id, status, error_code):
            # Our own bug, not the CSMS's: never report a change the 1.6 table forbids.
            old = self.connectors[connector_id].status
            exc = IllegalStatusChange(f"not sent: {old} -> {status} is not a legal 1.6 status transition")
            report(self.sink, CP_TO_CSMS, "StatusNotification", exception=exc)
            raise exc
        payload: Payload = {
            "connectorId": connector_id,
            "errorCode": error_code,
            "status": str(status),
            "timestamp": utc_now(),
        }
        if info:
            payload["info"] = info[:50]
        connector = self.connectors[connector_id]
        try:
            result = self.call("StatusNotification", payload)
        except (ConnectionLost, CallCancelled):
            raise
        except VolatileOcppError:
            connector.reported_status = status  # the CSMS heard of it (and answered badly: counted)
            raise
        connector.reported_status = status
        return result

    def report_all_statuses(self) -> None:
        for cid, connector in self.connectors.items():
            self.status_notification(cid, connector.status, connector.error_code)

    def start_transaction(self, connector_id: int, id_tag: str, reservation_id: int | None = None) -> Payload | None:
        """A transaction begins on the connector: StartTransaction.req, sent now when online and
        nothing is queued before it (its answer is returned), else queued (None: the transaction
        runs on and learns its transactionId when the queue is replayed). A StartTransaction that
        fails every attempt (§3.7.1) is dropped: None, and the transaction goes on with
        transactionId -1 (errata 3.18). A refused idTag raises RejectedError in strict mode."""
        connector = self.connectors[connector_id]
        started = datetime.now(UTC)
        meter_start = connector.meter.start()
        payload: Payload = {
            "connectorId": connector_id,
            "idTag": id_tag,
            "meterStart": meter_start,
            "timestamp": utc_now(),
        }
        if reservation_id is not None:
            payload["reservationId"] = reservation_id
        tx = Transaction(connector_id, id_tag)
        connector.transaction = tx
        connector.id_tag = id_tag
        self.state.profiles.tx_start[connector_id] = started  # where Relative charging profiles count from
        connector.stop_reason = None
        connector.stop_event.clear()
        begin = _listed(self.configuration.get("StopTxnSampledData"))
        if begin:
            tx.begin = connector.meter.meter_value(begin, "Transaction.Begin")
        message = TxMessage(
            "StartTransaction",
            payload,
            tx,
            check=_not_accepted("StartTransaction idTagInfo"),
            answered=self._start_replayed,
        )
        try:
            result = self.transaction_messages.send(message)
        except RejectedError as exc:
            if isinstance(exc.payload, dict):
                self._started(tx, exc.payload)
            raise
        except RETRYABLE:
            return None  # dropped after TransactionMessageAttempts: the transaction goes on (id -1)
        if result is not None:
            self._started(tx, result)
        return result

    def _started(self, tx: Transaction, result: Payload) -> None:
        """What a StartTransaction.conf teaches: the transactionId, the idTag's status (cache, §4.8)."""
        transaction_id = result.get("transactionId")
        tx.id = transaction_id if isinstance(transaction_id, int) else None
        connector = self.connectors[tx.connector_id]
        if connector.transaction is tx:
            connector.transaction_id = tx.id
        info = result.get("idTagInfo")
        authorization = self.state.authorization
        listed = self.state.local_list.lookup(tx.id_tag) if authorization.enabled("LocalAuthListEnabled") else None
        if listed is not None and isinstance(info, dict) and info.get("status") != listed.get("status"):
            # §3.5.2: "Conflicts between the local authorization list and the validity reported in,
            # for instance, a StartTransaction.conf message ... the Charge Point SHALL inform the
            # Central System by sending a StatusNotification with ConnectorId set to 0, and ErrorCode
            # set to 'LocalListConflict'."
            zero = self.connectors[0]
            self.spawn(self.quietly, lambda: self.status_notification(0, zero.status, "LocalListConflict"))
        authorization.remember(tx.id_tag, info)

    def _start_replayed(self, message: TxMessage, result: Payload | None) -> None:
        """A queued StartTransaction was answered during the replay. When the idTag is not Accepted
        and the transaction is still going on (§3.5.4, errata 3.17): with StopTransactionOnInvalidId
        it is stopped, reason DeAuthorized (OCTT TC_037_3_CS); without, energy delivery stops
        (SuspendedEVSE, TC_037_2_CS)."""
        tx = message.transaction
        if tx is None or result is None:
            return
        self._started(tx, result)
        connector = self.connectors[tx.connector_id]
        if connector.transaction is not tx or id_tag_status(result) == "Accepted":
            return
        if self.configuration.get_bool("StopTransactionOnInvalidId", True):
            self.request_stop(tx.connector_id, "DeAuthorized")
        else:
            self.quietly(lambda: self.suspend_energy(tx.connector_id))

    def suspend_energy(self, connector_id: int) -> None:
        """Stop offering energy on a running transaction (SuspendedEVSE): errata 3.17, "when
        StopTransactionOnInvalidId is set to false: only stop energy delivery to the vehicle"."""
        connector = self.connectors[connector_id]
        connector.meter.offering = False
        self.report_status(connector_id, ChargePointStatus.suspended_evse)

    def stop_transaction(
        self,
        connector_id: int,
        reason: str = "Local",
        id_tag: str | None = None,
        with_data: bool = True,
        timeout: float | None = None,
    ) -> Payload | None:
        """StopTransaction for the connector's transaction (the model forgets it either way): sent
        now when online and nothing is queued before it, else queued (None). Its ``transactionData``
        holds the Transaction.Begin reading, the periodic (StopTxnSampledData) and clock-aligned
        (StopTxnAlignedData) readings of the transaction, and the Transaction.End reading; none when
        both keys are empty (§3.16.5)."""
        connector = self.connectors[connector_id]
        tx = connector.transaction
        meter_stop = connector.meter.stop()
        payload: Payload = {
            "meterStop": meter_stop,
            "timestamp": utc_now(),
            "transactionId": tx.wire_id
            if tx is not None
            else (connector.transaction_id if connector.transaction_id is not None else 0),
            "reason": reason,
        }
        if id_tag:
            payload["idTag"] = id_tag
        if with_data:
            measurands = _listed(self.configuration.get("StopTxnSampledData"))
            end = connector.meter.meter_value(measurands, "Transaction.End") if measurands else None
            data = tx.transaction_data(end) if tx is not None else ([end] if end is not None else [])
            if data:
                payload["transactionData"] = data
        connector.transaction = None
        connector.transaction_id = None
        connector.id_tag = None
        self.state.profiles.clear_tx_profiles(connector_id)
        connector.meter.limit_w = None
        message = TxMessage("StopTransaction", payload, tx, answered=self._stop_answered, timeout=timeout)
        result = self.transaction_messages.send(message)
        if result is not None:
            self._stop_answered(message, result)
        return result

    def _stop_answered(self, message: TxMessage, result: Payload | None) -> None:
        """§4.10: the IdTagInfo of a StopTransaction.conf updates the authorization cache."""
        id_tag = message.payload.get("idTag")
        if result is not None and isinstance(id_tag, str):
            self.state.authorization.remember(id_tag, result.get("idTagInfo"))

    def sample(self, connector_id: int) -> Payload | None:
        """A periodic reading of the connector's transaction (MeterValueSampleInterval): its
        MeterValues.req goes out now or is queued (a transaction-related message, §3.7; OCTT
        TC_036_CS: queued readings are delivered in order, each with the time it was taken)."""
        connector = self.connectors[connector_id]
        connector.meter.limit_w = self.state.profiles.limit_w(connector_id)
        tx = connector.transaction
        sampled = connector.meter.meter_value(_measurands(self.configuration.get("MeterValuesSampledData")))
        stop_data = _listed(self.configuration.get("StopTxnSampledData"))
        if tx is not None and stop_data:
            tx.record(connector.meter.meter_value(stop_data, "Sample.Periodic", sampled["timestamp"]))
        payload: Payload = {"connectorId": connector_id, "meterValue": [sampled]}
        if tx is None:
            if connector.transaction_id is not None:
                payload["transactionId"] = connector.transaction_id
            return self.call("MeterValues", payload) if self.online else None  # not before an Accepted boot (§4.2)
        payload["transactionId"] = tx.wire_id
        return self.transaction_messages.send(TxMessage("MeterValues", payload, tx))

    def aligned_readings(self, timestamp: str) -> None:
        """The clock-aligned readings of every connector at a ClockAlignedDataInterval boundary
        (§3.16.2; OCTT TC_071_CS: the timestamp is the boundary, context Sample.Clock). A
        transaction's reading is a transaction-related message (queued while offline) and goes into
        its StopTransaction's transactionData (StopTxnAlignedData); a reading outside a transaction
        is sent only when online."""
        measurands = _measurands(self.configuration.get("MeterValuesAlignedData"))
        stop_data = _listed(self.configuration.get("StopTxnAlignedData"))
        for cid, connector in list(self.connectors.items()):
            if cid == 0:
                continue
            connector.meter.limit_w = self.state.profiles.limit_w(cid)
            reading = connector.meter.meter_value(measurands, "Sample.Clock", timestamp)
            payload: Payload = {"connectorId": cid, "meterValue": [reading]}
            tx = connector.transaction
            try:
                if tx is not None:
                    if stop_data:
                        tx.record(connector.meter.meter_value(stop_data, "Sample.Clock", timestamp))
                    payload["transactionId"] = tx.wire_id
                    self.transaction_messages.send(TxMessage("MeterValues", payload, tx))
                elif self.online:
                    if connector.transaction_id is not None:
                        payload["transactionId"] = connector.transaction_id
                    self.call("MeterValues", payload)
            except VolatileOcppError:
                continue  # counted; the next connector's reading goes on

    def meter_values(self, connector_id: int, context: str = "Sample.Periodic") -> Payload:
        """MeterValues.req now (a triggered reading: not queued)."""
        connector = self.connectors[connector_id]
        measurands = _measurands(self.configuration.get("MeterValuesSampledData"))
        connector.meter.limit_w = self.state.profiles.limit_w(connector_id)
        payload: Payload = {
            "connectorId": connector_id,
            "meterValue": [connector.meter.meter_value(measurands, context)],
        }
        tx = connector.transaction
        if connector.transaction_id is not None:
            payload["transactionId"] = connector.transaction_id
        elif tx is not None:
            payload["transactionId"] = tx.wire_id
        return self.call("MeterValues", payload)

    # ------------------------------------------------------------ intervals

    def _on_configuration_change(self, key: str, value: str, by_csms: bool = False) -> None:
        if by_csms and key in ("HeartbeatInterval", "MeterValueSampleInterval"):
            self._csms_chose = self._csms_chose | {key}
        if key == "HeartbeatInterval":
            self.heartbeat_interval = float(value) if value.isdigit() else self.heartbeat_interval
            self._interval_changed.set()
        periodic.on_configuration(self, key)

    # ------------------------------------------------------------ faults

    def inject_fault(self, connector_id: int, error_code: str, duration: float) -> None:
        """A fault on the connector (e.g. GroundFailure): a transaction running there is stopped
        (reason Other), the connector is Faulted with that errorCode (a legal change from every
        status, §4.9) and accepts no session (OCTT TC_041_CS) until the fault clears after
        ``duration`` seconds, when it is Available again (or Unavailable when set inoperative)."""
        connector = self.connectors[connector_id]
        if connector.fault is not None:
            return
        connector.fault = error_code
        periodic.arm_recovery(self, connector_id, duration)
        session = connector.session
        if session is not None and not session.dead and session is not gevent.getcurrent():
            self.request_stop(connector_id, "Other")  # the session ends Faulted (sessions.py)
            return
        if connector.charging:
            self.stop_transaction(connector_id, "Other")
        self.report_status(connector_id, ChargePointStatus.faulted, error_code)

    def clear_fault(self, connector_id: int) -> None:
        """The fault on the connector is over: Available (Unavailable when inoperative) again."""
        connector = self.connectors[connector_id]
        if connector.fault is None:
            return
        connector.fault = None
        self.timers.cancel_recovery(connector_id)
        if connector.status == ChargePointStatus.faulted:
            after = ChargePointStatus.available if connector.operative else ChargePointStatus.unavailable
            self.report_status(connector_id, after)

    _csms_chose: frozenset[str] = frozenset()
    """Interval keys the CSMS set with ChangeConfiguration: from then on they rule over the fleet's
    --heartbeat-interval/--meter-interval for this station (a key we report Accepted takes effect).
    A class-level default: only a station whose key the CSMS changed holds its own set."""

    @property
    def effective_heartbeat_interval(self) -> float:
        override = self.settings.heartbeat_override
        if override and "HeartbeatInterval" not in self._csms_chose:
            return override
        return self.heartbeat_interval

    @property
    def meter_interval(self) -> float:
        override = self.settings.meter_interval_override
        if override and "MeterValueSampleInterval" not in self._csms_chose:
            return override
        return float(self.configuration.get_int("MeterValueSampleInterval", 60))

    def run_heartbeats(self) -> None:
        """Heartbeat every HeartbeatInterval (or the override); a change applies at once; returns
        once :meth:`stop` began (a heartbeat in flight gets its answer first)."""
        while not self._stopping:
            interval = self.effective_heartbeat_interval
            since = time.monotonic()
            if pacing.wait(self._interval_changed, interval if interval > 0 else None):
                self._interval_changed.clear()
                continue
            if self._stopping:
                return
            if self.connected and self.registration == "Accepted":
                observer = self.schedule_observer
                if observer is not None:
                    observer("Heartbeat", since, interval)
                try:
                    self.heartbeat()
                except VolatileOcppError:
                    pass

    # ------------------------------------------------------------ sessions

    def start_session(
        self,
        connector_id: int,
        id_tag: str,
        duration_s: float | None,
        *,
        authorize: bool = True,
        default_stop_reason: str = "Local",
        plug_in_delay: float | None = None,
    ) -> gevent.Greenlet:
        """Run one charging session on the connector in its own greenlet (see :mod:`.sessions`).
        ``plug_in_delay``: seconds from the driver's identification until the EV is plugged in
        (default: drawn from the settings); ConnectionTimeOut may end the session before."""
        connector = self.connectors[connector_id]
        if plug_in_delay is None:
            plug_in_delay = self.draw(self.settings.habits.plug_in_delay)
        reservation_id = None
        if connector.reservation is not None and connector.reservation.id_tag == id_tag:
            reservation_id = connector.reservation.reservation_id
            self.drop_reservation(connector_id, announce=False)
        greenlet = gevent.spawn(
            run_session,
            self,
            connector_id,
            id_tag,
            duration_s,
            authorize=authorize,
            default_stop_reason=default_stop_reason,
            reservation_id=reservation_id,
            plug_in_delay=plug_in_delay,
        )
        connector.session = greenlet
        return greenlet

    def draw(self, bounds: tuple[float, float]) -> float:
        """Seconds of the driver's or the EV's behaviour, drawn from ``bounds`` (simulated seconds,
        played ``time_factor`` times faster)."""
        low, high = bounds
        if high <= 0:
            return 0.0
        return (low if low == high else self.rng.uniform(low, high)) / max(self.settings.time_factor, 1e-9)

    def request_stop(self, connector_id: int, reason: str) -> None:
        connector = self.connectors[connector_id]
        connector.stop_reason = reason
        connector.stop_event.set()

    def connector_for_transaction(self, transaction_id: object) -> int | None:
        return self.state.connector_for_transaction(transaction_id)

    def drop_reservation(self, connector_id: int, announce: bool) -> None:
        """End the connector's reservation (used, cancelled or expired); a Reserved connector becomes
        Available, reported to the CSMS when ``announce``."""
        connector = self.connectors[connector_id]
        reservation, connector.reservation = connector.reservation, None
        if reservation is not None and reservation.timer is not None and reservation.timer is not gevent.getcurrent():
            reservation.timer.kill(block=False)
        if connector.status == S.reserved:
            if announce and self.connected:
                self.quietly(lambda: self.status_notification(connector_id, S.available))
            else:
                self.set_status(connector_id, S.available)

    def reboot(self, reason: str) -> None:
        """Stop transactions (reason HardReset/SoftReset), drop the connection, boot again.

        One reboot at a time: a second Reset (or a firmware update's reboot) while one is under
        way joins it instead of opening a connection of its own, and the reconnect loop stands
        aside meanwhile; so the charge point never holds two connections. When the reboot ends
        without a connection (the CSMS unreachable, or it dropped the new one), the reconnect loop
        takes over.
        """
        current = gevent.getcurrent()
        running = self._rebooting
        if running is not None and running is not current and not running.dead:
            running.join()
            return
        self._rebooting = current
        try:
            self._reboot(reason)
        finally:
            self._rebooting = None
            if not self._stopping and not self.connected and self.settings.reconnect:
                self.reconnect_in_background()

    def _reboot(self, reason: str) -> None:
        sessions = [c.session for c in self.connectors.values() if c.session is not None and not c.session.dead]
        for cid, connector in self.connectors.items():
            if connector.charging:
                self.request_stop(cid, reason)
        for session in sessions:
            session.join(timeout=self.settings.call_timeout)
        self.close()
        if self.wait_stopping(0.5):
            return
        self.registration = None
        self.state.reset_after_reboot()
        try:
            self.connect(name="reconnect")
        except TransportError:
            return  # the CSMS is unreachable now: the reconnect loop backs off and retries
        while True:
            try:
                self.boot_until_accepted()
                break
            except ConnectionLost:
                return  # dropped: the reconnect loop reconnects and boots again
            except VolatileOcppError:
                if self.stopping or not self.connected:
                    return
                if self.wait_stopping(self.settings.boot_retry_default):
                    return
        self.report_all_statuses()
        state = self.state
        if state.firmware_status == "Installing":
            state.firmware_status = self.settings.behaviour.firmware_outcome
            self.call("FirmwareStatusNotification", {"status": state.firmware_status})

    # ------------------------------------------------------------ lifecycle helpers

    def spawn(self, func: Callable[..., Any], *args: Any) -> gevent.Greenlet:
        greenlet = gevent.spawn(func, *args)
        self._greenlets = [g for g in self._greenlets if not g.dead]
        self._greenlets.append(greenlet)
        return greenlet

    @staticmethod
    def quietly(func: Callable[[], object]) -> None:
        """Run a follow-up whose failures are already counted; a bug is logged, never a traceback."""
        try:
            func()
        except VolatileOcppError:
            pass  # already counted as a failed request
        except Exception as exc:  # a bug in a follow-up must not print a traceback or end silently
            name, kind = getattr(func, "__name__", "?"), type(exc).__name__
            limited.error(("follow-up", name, kind), "follow-up %s failed: %s: %s", name, kind, sanitize(exc))

    def notify(self, call: InboundCall) -> None:
        for observer in list(self.observers):
            observer(call)

    def begin_stop(self) -> None:
        """Tell the loops to end (they finish the call in flight first); :meth:`stop` does the rest."""
        self._stopping = True
        self._stop_requested.set()
        self._interval_changed.set()

    def wait_stopping(self, timeout: float | None) -> bool:
        """Sleep up to ``timeout`` seconds (ending at its due time: :mod:`~ocpp_users.ocppj.pacing`);
        True (at once) when :meth:`stop` has begun."""
        return pacing.wait(self._stop_requested, timeout)

    def stop(self, stop_transactions: bool = True, deadline: float | None = None) -> None:
        """End the charge point as a charger that is switched off cleanly would, by ``deadline``
        (``time.monotonic()``; default :data:`STOP_GRACE` from now).

        Loops end by a flag, never killed mid-call: a heartbeat or meter value in flight gets its
        answer. Running sessions stop (reason Local: StopTransaction, Finishing, Available), open
        transactions are stopped, then the connection is closed with a close handshake. A call still
        unanswered at the deadline (a frozen CSMS) is stopped by that close: accounted as stopped by
        the run, never as a CSMS failure. Transaction messages still queued then (offline, or waiting
        for a retry) are never delivered: counted ``unsent`` (:attr:`replay_counts`), not failures.
        Safe to call again (a second call only shortens the wait).
        """
        if deadline is None:
            deadline = time.monotonic() + STOP_GRACE
        self.begin_stop()
        current = gevent.getcurrent()
        reconnector = self._reconnector
        if reconnector is not None and reconnector is not current and not reconnector.dead:
            # It ends by the flag (a backoff sleep wakes at once; a handshake under way finishes).
            reconnector.join(timeout=max(0.0, deadline - time.monotonic()))
            reconnector.kill(block=False)
        if stop_transactions and self.connected:
            for connector in self.connectors.values():
                session = connector.session
                if session is None or session is current:
                    continue
                # Re-assert the stop until the session ends: one still in Preparing/Authorize clears
                # the event when its StartTransaction is confirmed and would otherwise run on.
                while not session.dead and self.connected and time.monotonic() < deadline:
                    if not connector.stop_event.is_set():
                        connector.stop_reason = "Local"
                        connector.stop_event.set()
                    session.join(timeout=min(0.2, max(0.0, deadline - time.monotonic())))
            for cid, connector in self.connectors.items():
                remaining = deadline - time.monotonic()
                if connector.charging and self.connected and remaining > 0:
                    try:
                        self.stop_transaction(cid, "Local", timeout=min(remaining, self.settings.call_timeout))
                    except VolatileOcppError:
                        pass
        self.timers.cancel_all()
        for greenlet in [g for g in self._greenlets if g is not current and not g.dead]:
            greenlet.join(timeout=max(0.0, deadline - time.monotonic()))
        # Calls still pending are stopped here, accounted once as stopped (never as failures).
        self.close(wait=min(2.0, max(0.1, deadline - time.monotonic())))
        for greenlet in self._greenlets:
            if greenlet is not current:
                greenlet.kill(block=False)
        for connector in self.connectors.values():
            if connector.session is not None and connector.session is not current:
                connector.session.kill(block=False)
        if self._tx_messages is not None:
            self._tx_messages.abandon()  # still queued: never delivered, counted unsent (the run stopped)
        self.phase = Phase.stopped

    @property
    def stopping(self) -> bool:
        return self._stopping

    def occupied(self, connector_id: int) -> bool:
        return self.state.occupied(connector_id)
