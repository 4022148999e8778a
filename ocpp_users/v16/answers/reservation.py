"""Reservation profile: ReserveNow and CancelReservation, with the reservation's expiry."""

from __future__ import annotations

import functools
from datetime import UTC, datetime

import gevent

from ocpp_users.ocppj.handlers import on
from ocpp_users.ocppj.rpc import Payload, Reply
from ocpp_users.v16.actions import Action
from ocpp_users.v16.answers.base import ProfileAnswers, parse_timestamp, seconds_until
from ocpp_users.v16.state.connectors import Reservation
from ocpp_users.v16.state.status import ChargePointStatus

S = ChargePointStatus


class ReservationAnswers(ProfileAnswers):
    """Answers of the Reservation profile."""

    profile = "Reservation"

    @on(Action.reserve_now)
    def reserve_now(self, payload: Payload) -> Payload | Reply:
        state, station = self.state, self.station
        connector_id = payload["connectorId"]
        if connector_id == 0 and not state.configuration.get_bool("ReserveConnectorZeroSupported"):
            return {"status": "Rejected"}
        if not state.valid_connector(connector_id):
            return {"status": "Rejected"}
        expiry = parse_timestamp(payload["expiryDate"])
        if expiry is not None and expiry <= datetime.now(UTC):
            # OCPP 1.6 §5.13: "A reservation SHALL be terminated on the Charge Point ... (2) when the
            # time specified in expiryDate is reached". One whose expiryDate is already past would
            # end as it is made: it is not made. Rejected is the only status that says so
            # (§7.40: "Reservation has not been made"); Occupied, Faulted and Unavailable would
            # name a connector state that is not the cause.
            return {"status": "Rejected"}
        connector = state.connectors[connector_id]
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
            seconds_until(payload["expiryDate"]), self._expire, connector_id, reservation_id
        )

        def announce() -> None:
            if connector.status != S.reserved:
                station.status_notification(connector_id, S.reserved)

        return Reply({"status": "Accepted"}, self.later(announce))

    def _expire(self, connector_id: int, reservation_id: int) -> None:
        connector = self.state.connectors[connector_id]
        if connector.reservation is not None and connector.reservation.reservation_id == reservation_id:
            self.station.drop_reservation(connector_id, announce=True)

    @on(Action.cancel_reservation)
    def cancel_reservation(self, payload: Payload) -> Payload | Reply:
        for cid, connector in self.state.connectors.items():
            if connector.reservation is not None and connector.reservation.reservation_id == payload["reservationId"]:
                drop = functools.partial(self.station.drop_reservation, cid, True)
                return Reply({"status": "Accepted"}, self.later(drop))
        return {"status": "Rejected"}
