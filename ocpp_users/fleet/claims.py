"""Which connector a fleet charge point may use now: its own session loop, or the CSMS's remote start.

A real charger has one EV per connector; the fleet's session loop and a CSMS's
RemoteStartTransaction must not both start a session there. :class:`ConnectorClaims` is added to
the station's answers (composition, :meth:`~ocpp_users.v16.answers.Answers.add`): its
RemoteStartTransaction handler refuses a connector whose session the loop is running and claims
the connector it accepts for until that session begins, then hands over to the Core answer.
"""

from __future__ import annotations

import time

from ocpp_users.ocppj.handlers import on
from ocpp_users.ocppj.rpc import Payload, Reply
from ocpp_users.v16.actions import Action
from ocpp_users.v16.state.status import ChargePointStatus
from ocpp_users.v16.station import Station

CLAIM_SECONDS = 10.0
"""How long a remote start holds its connector before its session has begun."""


class ConnectorClaims:
    """The fleet's connector bookkeeping for one station."""

    def __init__(self, station: Station) -> None:
        self.station = station
        self.remote_claims: dict[int, float] = {}
        station.answers.add(self)

    def session_active(self, connector_id: int) -> bool:
        return self.station.connectors[connector_id].session_running

    def claimed(self, connector_id: int) -> bool:
        at = self.remote_claims.get(connector_id)
        return at is not None and time.monotonic() - at < CLAIM_SECONDS

    def connector_free(self, connector_id: int) -> bool:
        """True when a driver could start a session here now: also while the charge point is
        offline after it was once Accepted (OCPP 1.6 §3.5: the charger authorizes locally and
        queues the transaction's messages), never on a Faulted connector (OCTT TC_041_CS)."""
        station = self.station
        connector = station.connectors[connector_id]
        return (
            station.registration == "Accepted"
            and not station.stopping
            and connector.operative
            and station.connectors[0].operative
            and connector.status == ChargePointStatus.available
            and connector.reservation is None
            and not connector.charging
            and not self.session_active(connector_id)
            and not self.claimed(connector_id)
        )

    def free_connector(self) -> int | None:
        """The first connector a session could start on now."""
        for cid in self.station.connectors:
            if cid > 0 and self.connector_free(cid):
                return cid
        return None

    @on(Action.remote_start_transaction)
    def remote_start_transaction(self, payload: Payload) -> Payload | Reply:
        connector_id = payload.get("connectorId")
        if connector_id is None:
            connector_id = self.free_connector()
            if connector_id is None:
                return {"status": "Rejected"}
            payload = {**payload, "connectorId": connector_id}
        elif isinstance(connector_id, int) and connector_id in self.station.connectors:
            if self.session_active(connector_id) or self.claimed(connector_id):
                return {"status": "Rejected"}
        answer = self.station.answers.core.remote_start_transaction(payload)
        if not (isinstance(answer, Reply) and answer.payload.get("status") == "Accepted"):
            return answer
        claimed = connector_id
        self.remote_claims[claimed] = time.monotonic()
        begin = answer.after

        def after() -> None:
            try:
                if begin is not None:
                    begin()
            finally:
                self.remote_claims.pop(claimed, None)

        return Reply(answer.payload, after)
