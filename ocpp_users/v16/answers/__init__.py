"""The simulated charger: handlers for every CSMS-initiated OCPP 1.6 call, with a real charger's
behaviour (a remote start starts a session, Reset reboots, TriggerMessage sends the message).

Each handler returns its confirmation; work that must follow the confirmation on the wire
(a StartTransaction after RemoteStartTransaction.conf, say) goes in ``Reply.after``.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import gevent

from ocpp_users.ocppj.errors import ConnectionLost, InternalError, OcppCallError, TransportError, VolatileOcppError
from ocpp_users.ocppj.handlers import HandlerRegistry, on
from ocpp_users.ocppj.rpc import Handler, Reply
from ocpp_users.v16.actions import Action
from ocpp_users.v16.sessions import run_session
from ocpp_users.v16.state.status import OCCUPIED, ChargePointStatus
from ocpp_users.v16.station import ChargePointBase, InboundCall, Reservation

S = ChargePointStatus
log = logging.getLogger(__name__)
Payload = dict[str, Any]


def _seconds_until(timestamp: Any) -> float:
    if not isinstance(timestamp, str):
        return 0.0
    try:
        when = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return 0.0
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class SimulatedChargePoint(ChargePointBase, HandlerRegistry):
    """One OCPP 1.6J charge point: the engine's connection plus a charger's answers."""

    @property
    def unsupported_actions(self) -> frozenset[str]:  # type: ignore[override]
        return self.settings.behaviour.unsupported

    # ------------------------------------------------------------ dispatch

    def lookup(self, action: str) -> Handler:
        handler = super().lookup(action)
        behaviour = self.settings.behaviour

        def answer(payload: Payload) -> Payload | Reply:
            try:
                if action in behaviour.fail:
                    raise InternalError(f"{action} failed (configured to fail)")
                if action in behaviour.answers:
                    result: Payload | Reply = {"status": behaviour.answers[action]}
                else:
                    result = handler(payload)
            except OcppCallError as exc:
                self._notify(action, payload, None, str(exc))
                raise
            self._notify(action, payload, result.payload if isinstance(result, Reply) else result, None)
            return result

        return answer

    def _notify(self, action: str, payload: Payload, answer: Payload | None, error: str | None) -> None:
        if self.observers:
            call = InboundCall(time.time(), action, payload, answer, error)
            for observer in list(self.observers):
                observer(call)

    @property
    def follow_up(self) -> bool:
        return self.settings.behaviour.auto_follow_up

    def _valid_connector(self, connector_id: Any, allow_zero: bool = True) -> bool:
        return isinstance(connector_id, int) and connector_id in self.connectors and (allow_zero or connector_id > 0)

    def _later(self, func: Callable[[], Any]) -> Callable[[], Any] | None:
        """A follow-up, spawned so that the handling greenlet ends at once."""
        if not self.follow_up:
            return None

        def run() -> None:
            self.spawn(self._quietly, func)

        return run

    @staticmethod
    def _quietly(func: Callable[[], Any]) -> None:
        try:
            func()
        except VolatileOcppError:
            pass  # already counted as a failed request
        except Exception as exc:  # a bug in a follow-up must not print a traceback or end silently
            log.error("follow-up %s failed: %s: %s", getattr(func, "__name__", "?"), type(exc).__name__, exc)

    # ------------------------------------------------------------ sessions

    def start_session(
        self,
        connector_id: int,
        id_tag: str,
        duration_s: float | None,
        *,
        authorize: bool = True,
        default_stop_reason: str = "Local",
    ) -> gevent.Greenlet:
        connector = self.connectors[connector_id]
        reservation_id = None
        if connector.reservation is not None and connector.reservation.id_tag == id_tag:
            reservation_id = connector.reservation.reservation_id
            self._drop_reservation(connector_id, announce=False)
        greenlet = gevent.spawn(
            run_session,
            self,
            connector_id,
            id_tag,
            duration_s,
            authorize=authorize,
            default_stop_reason=default_stop_reason,
            reservation_id=reservation_id,
        )
        connector.session = greenlet
        return greenlet

    def request_stop(self, connector_id: int, reason: str) -> None:
        connector = self.connectors[connector_id]
        connector.stop_reason = reason
        connector.stop_event.set()

    def connector_for_transaction(self, transaction_id: Any) -> int | None:
        for cid, connector in self.connectors.items():
            if connector.transaction_id is not None and connector.transaction_id == transaction_id:
                return cid
        return None

    # ------------------------------------------------------------ Core

    @on(Action.change_availability)
    def on_change_availability(self, payload: Payload) -> Payload | Reply:
        connector_id = payload["connectorId"]
        if not self._valid_connector(connector_id):
            return {"status": "Rejected"}
        operative = payload["type"] == "Operative"
        targets = list(self.connectors) if connector_id == 0 else [connector_id]
        scheduled = False
        changed: list[int] = []
        for cid in targets:
            connector = self.connectors[cid]
            busy = connector.charging or (connector.session is not None and not connector.session.dead)
            if cid != 0 and busy:
                connector.scheduled_operative = operative
                scheduled = True
                continue
            if connector.operative != operative:
                connector.operative = operative
                changed.append(cid)

        def announce() -> None:
            for cid in changed:
                status = S.available if operative else S.unavailable
                if self.connectors[cid].status in OCCUPIED and not operative:
                    continue
                self.status_notification(cid, status)

        # From the specification: "Scheduled" when a transaction is in progress; the change
        # applies when it ends.
        return Reply({"status": "Scheduled" if scheduled else "Accepted"}, self._later(announce))

    @on(Action.change_configuration)
    def on_change_configuration(self, payload: Payload) -> Payload:
        return {"status": self.configuration.change(payload["key"], payload["value"])}

    @on(Action.clear_cache)
    def on_clear_cache(self, payload: Payload) -> Payload:
        self.auth_cache.clear()
        return {"status": "Accepted"}

    @on(Action.data_transfer)
    def on_data_transfer(self, payload: Payload) -> Payload:
        if payload["vendorId"] not in self.settings.behaviour.data_transfer_vendors:
            return {"status": "UnknownVendorId"}
        answer: Payload = {"status": "Accepted"}
        if "data" in payload:
            answer["data"] = payload["data"]
        return answer

    @on(Action.get_configuration)
    def on_get_configuration(self, payload: Payload) -> Payload:
        found, unknown = self.configuration.report(payload.get("key"))
        answer: Payload = {"configurationKey": found}
        if unknown:
            answer["unknownKey"] = unknown
        return answer

    @on(Action.remote_start_transaction)
    def on_remote_start_transaction(self, payload: Payload) -> Payload | Reply:
        connector_id = payload.get("connectorId")
        if connector_id is None:
            free = [
                cid
                for cid, c in self.connectors.items()
                if cid > 0 and c.operative and not c.charging and c.status in (S.available, S.preparing)
            ]
            if not free:
                return {"status": "Rejected"}
            connector_id = free[0]
        if not self._valid_connector(connector_id, allow_zero=False):
            return {"status": "Rejected"}
        connector = self.connectors[connector_id]
        # A connector reserved for this idTag may be started remotely (the reservation is then used).
        reserved_for_tag = connector.reservation is not None and connector.reservation.id_tag == payload["idTag"]
        ready = connector.status in (S.available, S.preparing) or (connector.status == S.reserved and reserved_for_tag)
        if connector.charging or not connector.operative or not ready:
            return {"status": "Rejected"}
        profile = payload.get("chargingProfile")
        if profile is not None:
            if profile.get("chargingProfilePurpose") != "TxProfile":
                return {"status": "Rejected"}
            self.profiles.install(connector_id, profile)
        id_tag = payload["idTag"]
        authorize = self.configuration.get_bool("AuthorizeRemoteTxRequests")
        duration = None

        def begin() -> None:
            self.start_session(connector_id, id_tag, duration, authorize=authorize)

        return Reply({"status": "Accepted"}, begin if self.follow_up else None)

    @on(Action.remote_stop_transaction)
    def on_remote_stop_transaction(self, payload: Payload) -> Payload | Reply:
        connector_id = self.connector_for_transaction(payload["transactionId"])
        if connector_id is None:
            return {"status": "Rejected"}

        def stop() -> None:
            self.request_stop(connector_id, "Remote")

        return Reply({"status": "Accepted"}, stop if self.follow_up else None)

    @on(Action.reset)
    def on_reset(self, payload: Payload) -> Payload | Reply:
        kind = payload["type"]
        return Reply({"status": "Accepted"}, self._later(lambda: self.reboot(f"{kind}Reset")))

    @on(Action.unlock_connector)
    def on_unlock_connector(self, payload: Payload) -> Payload | Reply:
        connector_id = payload["connectorId"]
        if self.settings.behaviour.fixed_cable:
            return {"status": "NotSupported"}
        if not self._valid_connector(connector_id, allow_zero=False):
            # OCTT TC_031 (unknown connector): the Charge Point "responds with a UnlockConnector.conf
            # status is NotSupported" (1.6 has no "unknown connector" status).
            return {"status": "NotSupported"}
        connector = self.connectors[connector_id]
        if connector.charging:
            # From the specification: "the Charge Point SHALL first try to stop the transaction"
            # (reason UnlockCommand) before unlocking.
            self.request_stop(connector_id, "UnlockCommand")
            session = connector.session
            if session is not None and self.follow_up:
                session.join(timeout=self.settings.call_timeout)
                if not session.dead:
                    return {"status": "UnlockFailed"}
        return {"status": "Unlocked"}

    def reboot(self, reason: str) -> None:
        """Stop transactions (reason HardReset/SoftReset), drop the connection, boot again."""
        sessions = [c.session for c in self.connectors.values() if c.session is not None and not c.session.dead]
        for cid, connector in self.connectors.items():
            if connector.charging:
                self.request_stop(cid, reason)
        for session in sessions:
            session.join(timeout=self.settings.call_timeout)
        self.close()
        if self.stopping:
            return
        gevent.sleep(0.5)
        self.registration = None
        for connector in self.connectors.values():
            connector.status = S.available if connector.operative else S.unavailable
            connector.reservation = None
        try:
            self.connect(name="reconnect")
        except TransportError:
            self.reconnect_in_background()  # the CSMS is unreachable now: back off and retry
            return
        while True:
            try:
                self.boot_until_accepted()
                break
            except ConnectionLost:
                return  # the drop started the reconnect loop, which boots again
            except VolatileOcppError:
                if self.stopping or not self.connected:
                    return
                gevent.sleep(self.settings.boot_retry_default)
        self.report_all_statuses()
        if self.firmware_status == "Installing":
            self.firmware_status = self.settings.behaviour.firmware_outcome
            self.call("FirmwareStatusNotification", {"status": self.firmware_status})

    # ------------------------------------------------------------ Firmware Management

    @on(Action.get_diagnostics)
    def on_get_diagnostics(self, payload: Payload) -> Payload | Reply:
        file_name = f"diagnostics-{self.cp_id}.log"[:255]

        def upload() -> None:
            self.diagnostics_status = "Uploading"
            self.call("DiagnosticsStatusNotification", {"status": "Uploading"})
            gevent.sleep(1.0 / max(self.settings.time_factor, 1.0))
            self.diagnostics_status = self.settings.behaviour.diagnostics_outcome
            self.call("DiagnosticsStatusNotification", {"status": self.diagnostics_status})

        return Reply({"fileName": file_name}, self._later(upload))

    @on(Action.update_firmware)
    def on_update_firmware(self, payload: Payload) -> Payload | Reply:
        wait = _seconds_until(payload.get("retrieveDate"))
        outcome = self.settings.behaviour.firmware_outcome

        def update() -> None:
            gevent.sleep(wait)
            self.firmware_status = "Downloading"
            self.call("FirmwareStatusNotification", {"status": "Downloading"})
            gevent.sleep(1.0 / max(self.settings.time_factor, 1.0))
            if outcome == "DownloadFailed":
                self.firmware_status = outcome
                self.call("FirmwareStatusNotification", {"status": outcome})
                return
            self.firmware_status = "Downloaded"
            self.call("FirmwareStatusNotification", {"status": "Downloaded"})
            self.firmware_status = "Installing"
            self.call("FirmwareStatusNotification", {"status": "Installing"})
            if outcome == "InstallationFailed":
                self.firmware_status = outcome
                self.call("FirmwareStatusNotification", {"status": outcome})
                return
            self.reboot("HardReset")

        return Reply({}, self._later(update))

    # ------------------------------------------------------------ Local Auth List Management

    @on(Action.get_local_list_version)
    def on_get_local_list_version(self, payload: Payload) -> Payload:
        # From the specification: -1 when the Local Authorization List is not enabled; 0 when
        # no list is installed.
        if not self.configuration.get_bool("LocalAuthListEnabled"):
            return {"listVersion": -1}
        return {"listVersion": self.local_list.version if self.local_list.entries else 0}

    @on(Action.send_local_list)
    def on_send_local_list(self, payload: Payload) -> Payload:
        if not self.configuration.get_bool("LocalAuthListEnabled"):
            return {"status": "NotSupported"}
        items = payload.get("localAuthorizationList", [])
        if len(items) > self.configuration.get_int("SendLocalListMaxLength", 100):
            return {"status": "Failed"}
        status = self.local_list.apply(payload["listVersion"], payload["updateType"], items)
        return {"status": status}

    # ------------------------------------------------------------ Reservation

    @on(Action.reserve_now)
    def on_reserve_now(self, payload: Payload) -> Payload | Reply:
        connector_id = payload["connectorId"]
        if connector_id == 0 and not self.configuration.get_bool("ReserveConnectorZeroSupported"):
            return {"status": "Rejected"}
        if not self._valid_connector(connector_id):
            return {"status": "Rejected"}
        connector = self.connectors[connector_id]
        if connector.status == S.faulted:
            return {"status": "Faulted"}
        if not connector.operative or connector.status == S.unavailable:
            return {"status": "Unavailable"}
        reservation_id = payload["reservationId"]
        existing = connector.reservation
        if existing is not None and existing.reservation_id != reservation_id:
            return {"status": "Occupied"}
        if connector.status not in (S.available, S.reserved):
            return {"status": "Occupied"}
        if existing is not None and existing.timer is not None:
            existing.timer.kill(block=False)
        reservation = Reservation(reservation_id, payload["idTag"], payload["expiryDate"], payload.get("parentIdTag"))
        connector.reservation = reservation
        reservation.timer = gevent.spawn_later(
            _seconds_until(payload["expiryDate"]), self._expire, connector_id, reservation_id
        )

        def announce() -> None:
            if connector.status != S.reserved:
                self.status_notification(connector_id, S.reserved)

        return Reply({"status": "Accepted"}, self._later(announce))

    def _expire(self, connector_id: int, reservation_id: int) -> None:
        connector = self.connectors[connector_id]
        if connector.reservation is not None and connector.reservation.reservation_id == reservation_id:
            self._drop_reservation(connector_id, announce=True)

    def _drop_reservation(self, connector_id: int, announce: bool) -> None:
        connector = self.connectors[connector_id]
        reservation, connector.reservation = connector.reservation, None
        if reservation is not None and reservation.timer is not None and reservation.timer is not gevent.getcurrent():
            reservation.timer.kill(block=False)
        if connector.status == S.reserved:
            if announce and self.connected:
                self._quietly(lambda: self.status_notification(connector_id, S.available))
            else:
                self.set_status(connector_id, S.available)

    @on(Action.cancel_reservation)
    def on_cancel_reservation(self, payload: Payload) -> Payload | Reply:
        for cid, connector in self.connectors.items():
            if connector.reservation is not None and connector.reservation.reservation_id == payload["reservationId"]:
                return Reply({"status": "Accepted"}, self._later(functools.partial(self._drop_reservation, cid, True)))
        return {"status": "Rejected"}

    # ------------------------------------------------------------ Smart Charging

    @on(Action.set_charging_profile)
    def on_set_charging_profile(self, payload: Payload) -> Payload:
        connector_id = payload["connectorId"]
        profile = payload["csChargingProfiles"]
        purpose = profile["chargingProfilePurpose"]
        if not self._valid_connector(connector_id):
            return {"status": "Rejected"}
        if profile["stackLevel"] > self.configuration.get_int("ChargeProfileMaxStackLevel", 10):
            return {"status": "Rejected"}
        if purpose == "ChargePointMaxProfile" and connector_id != 0:
            return {"status": "Rejected"}
        if purpose == "TxProfile":
            # From the specification: a TxProfile "SHALL only be set ... when a transaction is active".
            connector = self.connectors[connector_id]
            if connector_id == 0 or not connector.charging:
                return {"status": "Rejected"}
            tx = profile.get("transactionId")
            if tx is not None and tx != connector.transaction_id:
                return {"status": "Rejected"}
        self.profiles.install(connector_id, profile)
        for cid, connector in self.connectors.items():
            connector.meter.limit_w = self.profiles.limit_w(cid)
        return {"status": "Accepted"}

    @on(Action.clear_charging_profile)
    def on_clear_charging_profile(self, payload: Payload) -> Payload:
        matched = self.profiles.clear(payload)
        for cid, connector in self.connectors.items():
            connector.meter.limit_w = self.profiles.limit_w(cid)
        return {"status": "Accepted" if matched else "Unknown"}

    @on(Action.get_composite_schedule)
    def on_get_composite_schedule(self, payload: Payload) -> Payload:
        connector_id = payload["connectorId"]
        if not self._valid_connector(connector_id):
            return {"status": "Rejected"}
        unit = payload.get("chargingRateUnit")
        return {
            "status": "Accepted",
            "connectorId": connector_id,
            "scheduleStart": datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
            "chargingSchedule": self.profiles.composite(connector_id, payload["duration"], unit),
        }

    # ------------------------------------------------------------ Remote Trigger

    @on(Action.trigger_message)
    def on_trigger_message(self, payload: Payload) -> Payload | Reply:
        requested = payload["requestedMessage"]
        connector_id = payload.get("connectorId")
        if connector_id is not None and not self._valid_connector(connector_id):
            return {"status": "Rejected"}
        targets = [connector_id] if connector_id is not None else list(self.connectors)

        def send() -> None:
            if requested == "BootNotification":
                self.boot_until_accepted()  # a Pending/Rejected answer is honoured like any boot
            elif requested == "Heartbeat":
                self.heartbeat()
            elif requested == "StatusNotification":
                for cid in targets:
                    self.status_notification(cid, self.connectors[cid].status, self.connectors[cid].error_code)
            elif requested == "MeterValues":
                for cid in targets:
                    if cid > 0 or connector_id == 0:
                        self.meter_values(cid, "Trigger")
            elif requested == "DiagnosticsStatusNotification":
                self.call("DiagnosticsStatusNotification", {"status": _diagnostics_wire(self.diagnostics_status)})
            elif requested == "FirmwareStatusNotification":
                self.call("FirmwareStatusNotification", {"status": self.firmware_status})

        known = {
            "BootNotification",
            "DiagnosticsStatusNotification",
            "FirmwareStatusNotification",
            "Heartbeat",
            "MeterValues",
            "StatusNotification",
        }
        if requested not in known:
            return {"status": "NotImplemented"}
        return Reply({"status": "Accepted"}, self._later(send))


def _diagnostics_wire(status: str) -> str:
    return status if status in ("Idle", "Uploaded", "UploadFailed", "Uploading") else "Idle"
