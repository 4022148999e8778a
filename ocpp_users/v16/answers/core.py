"""Core profile: the CSMS-initiated calls every OCPP 1.6 charger answers.

ChangeAvailability, ChangeConfiguration, ClearCache, DataTransfer, GetConfiguration,
RemoteStartTransaction, RemoteStopTransaction, Reset, UnlockConnector.
"""

from __future__ import annotations

from ocpp_users.ocppj.errors import OccurenceConstraintViolationError
from ocpp_users.ocppj.handlers import on
from ocpp_users.ocppj.rpc import Payload, Reply
from ocpp_users.v16.actions import Action
from ocpp_users.v16.answers.base import ProfileAnswers
from ocpp_users.v16.security_events import SecurityEvent
from ocpp_users.v16.state.status import OCCUPIED, ChargePointStatus

S = ChargePointStatus


class CoreAnswers(ProfileAnswers):
    """Answers of the Core profile."""

    profile = "Core"

    @on(Action.change_availability)
    def change_availability(self, payload: Payload) -> Payload | Reply:
        connector_id = payload["connectorId"]
        state = self.state
        if not state.valid_connector(connector_id):
            return {"status": "Rejected"}
        operative = payload["type"] == "Operative"
        targets = list(state.connectors) if connector_id == 0 else [connector_id]
        scheduled = False
        changed: list[int] = []
        for cid in targets:
            connector = state.connectors[cid]
            busy = connector.charging or connector.session_running
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
                if state.connectors[cid].status in OCCUPIED and not operative:
                    continue
                self.station.status_notification(cid, status)

        # From the specification: "Scheduled" when a transaction is in progress; the change
        # applies when it ends.
        return Reply({"status": "Scheduled" if scheduled else "Accepted"}, self.later(announce))

    @on(Action.change_configuration)
    def change_configuration(self, payload: Payload) -> Payload | Reply:
        # A key may need more than a stored value once answered (the security whitepaper's
        # AuthorizationKey and SecurityProfile make the charger reconnect: answers/security.py).
        status, follow_up = self.state.configuration.apply(payload["key"], payload["value"])
        if follow_up is None:
            return {"status": status}
        return Reply({"status": status}, self.later(follow_up))

    @on(Action.clear_cache)
    def clear_cache(self, payload: Payload) -> Payload:
        self.state.auth_cache.clear()
        return {"status": "Accepted"}

    @on(Action.data_transfer)
    def data_transfer(self, payload: Payload) -> Payload:
        if payload["vendorId"] not in self.station.settings.behaviour.data_transfer_vendors:
            return {"status": "UnknownVendorId"}
        answer: Payload = {"status": "Accepted"}
        if "data" in payload:
            answer["data"] = payload["data"]
        return answer

    @on(Action.get_configuration)
    def get_configuration(self, payload: Payload) -> Payload:
        configuration = self.state.configuration
        requested = payload.get("key") or []
        most = configuration.get_int("GetConfigurationMaxKeys", 50)
        if len(requested) > most:
            # §9.1.9: GetConfigurationMaxKeys is the "Maximum number of requested configuration keys
            # in a GetConfiguration.req PDU"; a request for more violates that bound (OCPP-J §4.2.3:
            # OccurenceConstraintViolation, "at least one of the fields violates occurence
            # constraints"). OCTT TC_019_CS asks for exactly that many, and gets them all.
            raise OccurenceConstraintViolationError(
                f"{len(requested)} keys requested; GetConfigurationMaxKeys is {most}",
                reason="more keys than GetConfigurationMaxKeys",
            )
        found, unknown = configuration.report(payload.get("key"))
        answer: Payload = {"configurationKey": found}
        if unknown:
            answer["unknownKey"] = unknown
        return answer

    @on(Action.remote_start_transaction)
    def remote_start_transaction(self, payload: Payload) -> Payload | Reply:
        state = self.state
        connector_id = payload.get("connectorId")
        if connector_id is None:
            free = [
                cid
                for cid, c in state.connectors.items()
                if cid > 0 and c.operative and not c.charging and c.status in (S.available, S.preparing)
            ]
            if not free:
                return {"status": "Rejected"}
            connector_id = free[0]
        if not state.valid_connector(connector_id, allow_zero=False):
            return {"status": "Rejected"}
        connector = state.connectors[connector_id]
        # A connector reserved for this idTag may be started remotely (the reservation is then used).
        reserved_for_tag = connector.reservation is not None and connector.reservation.id_tag == payload["idTag"]
        ready = connector.status in (S.available, S.preparing) or (connector.status == S.reserved and reserved_for_tag)
        if connector.charging or not connector.operative or not ready:
            return {"status": "Rejected"}
        profile = payload.get("chargingProfile")
        if profile is not None:
            if profile.get("chargingProfilePurpose") != "TxProfile":
                return {"status": "Rejected"}
            state.profiles.install(connector_id, profile)
        id_tag = payload["idTag"]
        authorize = state.configuration.get_bool("AuthorizeRemoteTxRequests")
        station = self.station

        def begin() -> None:
            station.start_session(connector_id, id_tag, None, authorize=authorize)

        return Reply({"status": "Accepted"}, begin if self.follow_up else None)

    @on(Action.remote_stop_transaction)
    def remote_stop_transaction(self, payload: Payload) -> Payload | Reply:
        connector_id = self.state.connector_for_transaction(payload["transactionId"])
        if connector_id is None:
            return {"status": "Rejected"}
        station = self.station

        def stop() -> None:
            station.request_stop(connector_id, "Remote")

        return Reply({"status": "Accepted"}, stop if self.follow_up else None)

    @on(Action.reset)
    def reset(self, payload: Payload) -> Payload | Reply:
        kind = payload["type"]
        station = self.station

        def reset() -> None:
            # The security whitepaper's ResetOrReboot event, told after the reboot (critical: sent
            # when the settings ask for the charger's life-cycle events).
            station.security_events.raise_event(SecurityEvent.reset_or_reboot, f"{kind} reset", defer=True)
            station.reboot(f"{kind}Reset")

        return Reply({"status": "Accepted"}, self.later(reset))

    @on(Action.unlock_connector)
    def unlock_connector(self, payload: Payload) -> Payload:
        connector_id = payload["connectorId"]
        station = self.station
        if station.settings.behaviour.fixed_cable:
            return {"status": "NotSupported"}
        if not self.state.valid_connector(connector_id, allow_zero=False):
            # OCTT TC_031 (unknown connector): the Charge Point "responds with a UnlockConnector.conf
            # status is NotSupported" (1.6 has no "unknown connector" status).
            return {"status": "NotSupported"}
        connector = self.state.connectors[connector_id]
        locked = connector.session_running and connector.status == S.finishing
        if connector.charging or locked:
            # From the specification: "the Charge Point SHALL first try to stop the transaction"
            # (reason UnlockCommand) before unlocking. A connector kept locked after the EV side was
            # unplugged (UnlockConnectorOnEVSideDisconnect false) is released (OCTT TC_005_2_CS).
            station.request_stop(connector_id, "UnlockCommand")
            session = connector.session
            if session is not None and self.follow_up:
                session.join(timeout=station.settings.call_timeout)
                if not session.dead:
                    return {"status": "UnlockFailed"}
        return {"status": "Unlocked"}
