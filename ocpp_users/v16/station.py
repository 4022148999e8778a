"""The simulated charge point's runtime: connection and reconnect, the calls it makes, its loops.

:class:`ChargePointBase` owns one :class:`~ocpp_users.rpc.OcppConnection` at a time. The CSMS's
calls are answered by the handlers of :class:`~ocpp_users.simulated.SimulatedChargePoint`.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import gevent
import gevent.event

from ocpp_users.ocppj.errors import (
    ConnectionLost,
    IllegalStatusChange,
    RejectedError,
    TransportError,
    VolatileOcppError,
)
from ocpp_users.ocppj.rpc import OcppConnection, WireLog
from ocpp_users.ocppj.sink import CP_TO_CSMS, WEBSOCKET, RequestSink, null_sink
from ocpp_users.ocppj.transport import charge_point_url, connect
from ocpp_users.v16.settings import ChargePointSettings
from ocpp_users.v16.state.auth import AuthorizationCache, LocalAuthList
from ocpp_users.v16.state.charging_profiles import ProfileStore
from ocpp_users.v16.state.config import Configuration
from ocpp_users.v16.state.meter import Meter, utc_now
from ocpp_users.v16.state.status import OCCUPIED, ChargePointStatus, IllegalTransition, check_transition

log = logging.getLogger(__name__)

S = ChargePointStatus

ScheduleObserver = Callable[[str, float, float], object]
"""``observer(kind, since, interval)``: a periodic ``kind`` message ("Heartbeat", "MeterValues") is
about to be sent; it was due at ``since + interval`` (``time.monotonic()`` seconds)."""


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


@dataclass
class Reservation:
    reservation_id: int
    id_tag: str
    expiry: str
    parent_id_tag: str | None = None
    timer: gevent.Greenlet | None = None


@dataclass
class Connector:
    connector_id: int
    meter: Meter
    status: ChargePointStatus = S.available
    error_code: str = "NoError"
    transaction_id: int | None = None
    id_tag: str | None = None
    operative: bool = True
    scheduled_operative: bool | None = None
    reservation: Reservation | None = None
    session: gevent.Greenlet | None = None
    stop_reason: str | None = None
    stop_event: gevent.event.Event = field(default_factory=gevent.event.Event)

    @property
    def charging(self) -> bool:
        return self.transaction_id is not None


@dataclass(slots=True)
class InboundCall:
    """A CSMS-initiated call as the charge point saw it, with the answer it gave."""

    at: float
    action: str
    payload: dict[str, Any]
    answer: dict[str, Any] | None
    error: str | None = None


def id_tag_status(result: Any) -> Any:
    """``idTagInfo.status`` of an Authorize/StartTransaction answer, or None when it is missing."""
    info = result.get("idTagInfo") if isinstance(result, dict) else None
    return info.get("status") if isinstance(info, dict) else None


def _not_accepted(what: str) -> Callable[[dict[str, Any]], str | None]:
    def check(result: dict[str, Any]) -> str | None:
        status = id_tag_status(result)
        return None if status == "Accepted" else f"{what} {status}"

    return check


def _boot_check(result: dict[str, Any]) -> str | None:
    return "BootNotification Rejected" if result.get("status") == "Rejected" else None


class ChargePointBase:
    """Connection, reconnect, and the charge-point-initiated calls of one simulated charger."""

    def __init__(
        self, settings: ChargePointSettings, sink: RequestSink = null_sink, wire_log: WireLog | None = None
    ) -> None:
        self.settings = settings
        self.cp_id = settings.cp_id
        self.sink = sink
        self.wire_log = wire_log
        self.rng = random.Random()
        self.configuration = Configuration(settings.connectors, settings.configuration)
        self.configuration.listen(self._on_configuration_change)
        self.connectors: dict[int, Connector] = {
            cid: Connector(cid, Meter(settings.power_range_w, time_factor=settings.time_factor, rng=self.rng))
            for cid in range(settings.connectors + 1)
        }
        self.auth_cache = AuthorizationCache()
        self.local_list = LocalAuthList(self.configuration.get_int("LocalAuthListMaxLength", 1000))
        self.profiles = ProfileStore()
        self.connection: OcppConnection | None = None
        self.registration: str | None = None
        """Status of the last BootNotification.conf: Accepted, Pending or Rejected."""
        self.heartbeat_interval = float(self.configuration.get_int("HeartbeatInterval", 300))
        self.phase = Phase.idle
        self.drops = 0
        self.reconnects = 0
        self.last_error: str | None = None
        self.firmware_status = "Idle"
        self.diagnostics_status = "Idle"
        self.observers: list[Callable[[InboundCall], None]] = []
        """Called with every CSMS-initiated call once it is answered (the compliance runner waits on it)."""
        self.schedule_observer: ScheduleObserver | None = None
        """Called just before each periodic send (heartbeat and meter values loops) with the message's
        schedule, so that a load generator can count messages sent late (None: nobody watches)."""
        self._stopping = False
        self._connected = gevent.event.Event()
        self._interval_changed = gevent.event.Event()
        self._reconnector: gevent.Greenlet | None = None
        self._greenlets: list[gevent.Greenlet] = []

    # ------------------------------------------------------------ connection

    @property
    def url(self) -> str:
        return charge_point_url(self.settings.url, self.cp_id)

    @property
    def connected(self) -> bool:
        return self.connection is not None and not self.connection.closed

    def _fire(self, name: str, started: float, exception: BaseException | None) -> None:
        self.sink(
            request_type=WEBSOCKET,
            name=name,
            response_time=(time.perf_counter() - started) * 1000.0,
            response_length=0,
            exception=exception,
            context={},
        )

    def connect(self, name: str = "connect") -> None:
        """Open the WebSocket (security profile from the settings); raise TransportError on failure."""
        self.phase = Phase.connecting if name == "connect" else Phase.reconnecting
        started = time.perf_counter()
        try:
            ws = connect(self.url, self.cp_id, self.settings.security, timeout=self.settings.connect_timeout)
        except TransportError as exc:
            self.last_error = exc.reason
            self._fire(name, started, exc)
            raise
        self.connection = OcppConnection(
            ws,
            self,  # type: ignore[arg-type]  # the subclass is the Dispatcher
            sink=self.sink,
            call_timeout=self.settings.call_timeout,
            serialize_calls=self.settings.serialize_calls,
            validate=self.settings.validate,
            wire_log=self.wire_log,
            on_close=self._on_close,
        ).start()
        self._connected.set()
        self._fire(name, started, None)

    def wait_connected(self, timeout: float | None = None) -> bool:
        return self._connected.wait(timeout=timeout) and self.connected

    def _on_close(self, reason: str, by_us: bool) -> None:
        self._connected.clear()
        if by_us or self._stopping:
            return
        self.drops += 1
        self.last_error = reason
        self.sink(
            request_type=WEBSOCKET,
            name="disconnect",
            response_time=0.0,
            response_length=0,
            exception=ConnectionLost(f"connection dropped: {reason}"),
            context={},
        )
        if self.settings.reconnect and (self._reconnector is None or self._reconnector.dead):
            self._reconnector = gevent.spawn(self._reconnect_loop)

    def backoff_delays(self) -> Callable[[], float]:
        """Exponential backoff with jitter, bounded by ``backoff_max``."""
        state = {"delay": self.settings.backoff_initial}

        def next_delay() -> float:
            delay = state["delay"]
            state["delay"] = min(delay * 2.0, self.settings.backoff_max)
            jitter = self.settings.backoff_jitter
            return max(0.0, delay * (1.0 - jitter * self.rng.random()))

        return next_delay

    @property
    def reconnecting(self) -> bool:
        """True while the background reconnect (and the boot that follows it) is under way."""
        return self._reconnector is not None and not self._reconnector.dead

    def reconnect_in_background(self) -> None:
        """Start the reconnect loop unless it runs already (or the charge point is stopping)."""
        if not self._stopping and not self.reconnecting:
            self._reconnector = gevent.spawn(self._reconnect_loop)

    def _reconnect_loop(self) -> None:
        """Reconnect with backoff, then boot again if the last boot was not Accepted.

        A drop during that boot backs off and reconnects again (the drop's ``_on_close`` finds
        this loop alive and leaves it to it); any other boot failure (timeout, CALLERROR) is
        retried after ``boot_retry_default`` while the connection lasts.
        """
        next_delay = self.backoff_delays()
        while not self._stopping:
            self.phase = Phase.reconnecting
            gevent.sleep(next_delay())
            if self._stopping:
                return
            try:
                self.connect(name="reconnect")
            except TransportError:
                continue
            self.reconnects += 1
            while not self._stopping and self.connected:
                if self.registration == "Accepted":
                    self.phase = Phase.booted
                    return
                try:
                    self.boot_until_accepted()
                    return
                except ConnectionLost as exc:
                    self.last_error = exc.reason
                    break
                except VolatileOcppError as exc:
                    self.last_error = exc.reason
                    gevent.sleep(self.settings.boot_retry_default)

    def close(self) -> None:
        """Close the connection cleanly without reconnecting."""
        connection = self.connection
        if connection is not None:
            connection.close()

    def drop(self) -> None:
        """Drop the connection as a network fault would; reconnect follows if enabled."""
        connection = self.connection
        if connection is not None:
            connection.abort("dropped on purpose")
            self._on_close("dropped on purpose", False)

    # ------------------------------------------------------------ calls

    def call(
        self,
        action: str,
        payload: dict[str, Any],
        check: Callable[[dict[str, Any]], str | None] | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """One CALL; rejections named by ``check`` count as failures when the settings are strict."""
        connection = self.connection
        if connection is None:
            exc = ConnectionLost("connection lost: not connected")
            self.sink(
                request_type=CP_TO_CSMS,
                name=action,
                response_time=0.0,
                response_length=0,
                exception=exc,
                context={},
            )
            raise exc
        return connection.call(action, payload, timeout=timeout, check=check if self.settings.strict else None)

    def boot(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "chargePointVendor": self.settings.vendor[:20],
            "chargePointModel": self.settings.model[:20],
            "firmwareVersion": self.settings.firmware_version[:50],
        }
        if self.settings.serial_number:
            payload["chargePointSerialNumber"] = self.settings.serial_number[:25]
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
                self.configuration.set_internal("HeartbeatInterval", str(interval))
        else:
            self.phase = Phase.pending
        return result

    def boot_until_accepted(self, max_attempts: int | None = None) -> dict[str, Any]:
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
            gevent.sleep(wait)
            if self._stopping or not self.connected:
                raise ConnectionLost("connection lost: while waiting to boot")

    def heartbeat(self) -> dict[str, Any]:
        return self.call("Heartbeat", {})

    def authorize(self, id_tag: str) -> dict[str, Any]:
        result = self.call("Authorize", {"idTag": id_tag}, check=_not_accepted("Authorize"))
        info = result.get("idTagInfo")
        if isinstance(info, dict) and self.configuration.get_bool("AuthorizationCacheEnabled"):
            self.auth_cache.update(id_tag, info)
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
    ) -> dict[str, Any]:
        """Move the connector to ``status`` (checked against the 1.6 table) and report it."""
        status = ChargePointStatus(status)
        if not self.set_status(connector_id, status, error_code):
            # Our own bug, not the CSMS's: never report a change the 1.6 table forbids.
            old = self.connectors[connector_id].status
            exc = IllegalStatusChange(f"not sent: {old} -> {status} is not a legal 1.6 status transition")
            self.sink(
                request_type=CP_TO_CSMS,
                name="StatusNotification",
                response_time=0.0,
                response_length=0,
                exception=exc,
                context={},
            )
            raise exc
        payload: dict[str, Any] = {
            "connectorId": connector_id,
            "errorCode": error_code,
            "status": str(status),
            "timestamp": utc_now(),
        }
        if info:
            payload["info"] = info[:50]
        return self.call("StatusNotification", payload)

    def report_all_statuses(self) -> None:
        for cid, connector in self.connectors.items():
            self.status_notification(cid, connector.status, connector.error_code)

    def start_transaction(self, connector_id: int, id_tag: str, reservation_id: int | None = None) -> dict[str, Any]:
        connector = self.connectors[connector_id]
        started = datetime.now(UTC)
        meter_start = connector.meter.start()
        payload: dict[str, Any] = {
            "connectorId": connector_id,
            "idTag": id_tag,
            "meterStart": meter_start,
            "timestamp": utc_now(),
        }
        if reservation_id is not None:
            payload["reservationId"] = reservation_id
        result = self.call("StartTransaction", payload, check=_not_accepted("StartTransaction idTagInfo"))
        transaction_id = result.get("transactionId")
        connector.transaction_id = transaction_id if isinstance(transaction_id, int) else None
        connector.id_tag = id_tag
        self.profiles.tx_start[connector_id] = started  # where Relative charging profiles count from
        connector.stop_reason = None
        connector.stop_event.clear()
        info = result.get("idTagInfo")
        if isinstance(info, dict) and self.configuration.get_bool("AuthorizationCacheEnabled"):
            self.auth_cache.update(id_tag, info)
        return result

    def stop_transaction(
        self, connector_id: int, reason: str = "Local", id_tag: str | None = None, with_data: bool = True
    ) -> dict[str, Any]:
        """StopTransaction for the connector's transaction (the model forgets it either way)."""
        connector = self.connectors[connector_id]
        meter_stop = connector.meter.stop()
        payload: dict[str, Any] = {
            "meterStop": meter_stop,
            "timestamp": utc_now(),
            "transactionId": connector.transaction_id if connector.transaction_id is not None else 0,
            "reason": reason,
        }
        if id_tag:
            payload["idTag"] = id_tag
        if with_data:
            measurands = _measurands(self.configuration.get("StopTxnSampledData"))
            payload["transactionData"] = [connector.meter.meter_value(measurands, "Transaction.End")]
        connector.transaction_id = None
        connector.id_tag = None
        self.profiles.clear_tx_profiles(connector_id)
        connector.meter.limit_w = None
        return self.call("StopTransaction", payload)

    def meter_values(self, connector_id: int, context: str = "Sample.Periodic") -> dict[str, Any]:
        connector = self.connectors[connector_id]
        measurands = _measurands(self.configuration.get("MeterValuesSampledData"))
        connector.meter.limit_w = self.profiles.limit_w(connector_id)
        payload: dict[str, Any] = {
            "connectorId": connector_id,
            "meterValue": [connector.meter.meter_value(measurands, context)],
        }
        if connector.transaction_id is not None:
            payload["transactionId"] = connector.transaction_id
        return self.call("MeterValues", payload)

    # ------------------------------------------------------------ intervals

    def _on_configuration_change(self, key: str, value: str) -> None:
        if key == "HeartbeatInterval":
            self.heartbeat_interval = float(value) if value.isdigit() else self.heartbeat_interval
        if key == "HeartbeatInterval":
            self._interval_changed.set()

    @property
    def effective_heartbeat_interval(self) -> float:
        return self.settings.heartbeat_override or self.heartbeat_interval

    @property
    def meter_interval(self) -> float:
        if self.settings.meter_interval_override:
            return self.settings.meter_interval_override
        return float(self.configuration.get_int("MeterValueSampleInterval", 60))

    def run_heartbeats(self) -> None:
        """Heartbeat every HeartbeatInterval (or the override); a change applies at once."""
        while not self._stopping:
            interval = self.effective_heartbeat_interval
            since = time.monotonic()
            if self._interval_changed.wait(timeout=interval if interval > 0 else None):
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

    # ------------------------------------------------------------ lifecycle helpers

    def spawn(self, func: Callable[..., Any], *args: Any) -> gevent.Greenlet:
        greenlet = gevent.spawn(func, *args)
        self._greenlets = [g for g in self._greenlets if not g.dead]
        self._greenlets.append(greenlet)
        return greenlet

    def stop(self, stop_transactions: bool = True) -> None:
        """Stop running transactions (reason Local), close the socket cleanly, end every loop."""
        if stop_transactions and self.connected:
            current = gevent.getcurrent()
            sessions = [c for c in self.connectors.values() if c.session is not None and c.session is not current]
            deadline = time.monotonic() + self.settings.call_timeout
            for connector in sessions:
                # Re-assert the stop until the session ends: one still in Preparing/Authorize clears
                # the event when its StartTransaction is confirmed and would otherwise run on.
                while connector.session is not None and not connector.session.dead and time.monotonic() < deadline:
                    if not connector.stop_event.is_set():
                        connector.stop_reason = "Local"
                        connector.stop_event.set()
                    connector.session.join(timeout=0.2)
            for cid, connector in self.connectors.items():
                if connector.transaction_id is not None and self.connected:
                    try:
                        self.stop_transaction(cid, "Local")
                    except VolatileOcppError:
                        pass
        self._stopping = True
        self._interval_changed.set()
        if self._reconnector is not None:
            self._reconnector.kill(block=False)
        current = gevent.getcurrent()
        for greenlet in self._greenlets:
            if greenlet is not current:
                greenlet.kill(block=False)
        for connector in self.connectors.values():
            if connector.session is not None and connector.session is not current:
                connector.session.kill(block=False)
        self.close()
        self.phase = Phase.stopped

    @property
    def stopping(self) -> bool:
        return self._stopping

    def occupied(self, connector_id: int) -> bool:
        return self.connectors[connector_id].status in OCCUPIED


def _measurands(value: str | None) -> list[str]:
    if not value:
        return ["Energy.Active.Import.Register"]
    return [item.strip() for item in value.split(",") if item.strip()]
