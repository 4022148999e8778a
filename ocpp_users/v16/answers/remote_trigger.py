"""Remote Trigger profile: TriggerMessage makes the charger send the message asked for."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_users.ocppj.handlers import on
from ocpp_users.ocppj.rpc import Payload, Reply
from ocpp_users.v16.actions import Action
from ocpp_users.v16.answers.base import ProfileAnswers

if TYPE_CHECKING:
    from ocpp_users.v16.station import Station

TRIGGERABLE = frozenset(
    {
        "BootNotification",
        "DiagnosticsStatusNotification",
        "FirmwareStatusNotification",
        "Heartbeat",
        "MeterValues",
        "StatusNotification",
    }
)
"""From the specification (MessageTrigger): the messages a TriggerMessage.req may ask for."""


FIRMWARE_BUSY = frozenset({"Downloading", "Downloaded", "Installing"})
"""FirmwareStatus values of an update in progress."""


def diagnostics_now(status: str) -> str:
    """The DiagnosticsStatusNotification a TriggerMessage gets: §4.4, "The Charge Point SHALL only
    send the status Idle after receipt of a TriggerMessage for a Diagnostics Status Notification,
    when it is not busy uploading diagnostics" (OCTT TC_054_CS: Idle); Uploading while it is."""
    return "Uploading" if status == "Uploading" else "Idle"


def firmware_now(status: str) -> str:
    """The FirmwareStatusNotification a TriggerMessage gets: §4.5, Idle "when it is not busy
    downloading/installing firmware", else the step in progress."""
    return status if status in FIRMWARE_BUSY else "Idle"


def send_triggered(station: Station, requested: str, connector_id: int | None) -> None:
    """Send the message a TriggerMessage.req (or the security whitepaper's ExtendedTriggerMessage.req)
    asked for: BootNotification, Heartbeat, StatusNotification, MeterValues, and the 1.6 status
    notifications. ``connector_id`` None means every connector."""
    state = station.state
    targets = [connector_id] if connector_id is not None else list(state.connectors)
    if requested == "BootNotification":
        station.boot_until_accepted()  # a Pending/Rejected answer is honoured like any boot
    elif requested == "Heartbeat":
        station.heartbeat()
    elif requested == "StatusNotification":
        for cid in targets:
            connector = state.connectors[cid]
            station.status_notification(cid, connector.status, connector.error_code)
    elif requested == "MeterValues":
        for cid in targets:
            if cid > 0 or connector_id == 0:
                station.meter_values(cid, "Trigger")
    elif requested == "DiagnosticsStatusNotification":
        station.call("DiagnosticsStatusNotification", {"status": diagnostics_now(state.diagnostics_status)})
    elif requested == "FirmwareStatusNotification":
        station.call("FirmwareStatusNotification", {"status": firmware_now(state.firmware_status)})


class RemoteTriggerAnswers(ProfileAnswers):
    """Answers of the Remote Trigger profile."""

    profile = "RemoteTrigger"

    @on(Action.trigger_message)
    def trigger_message(self, payload: Payload) -> Payload | Reply:
        station, state = self.station, self.state
        requested = payload["requestedMessage"]
        connector_id = payload.get("connectorId")
        if connector_id is not None and not state.valid_connector(connector_id):
            return {"status": "Rejected"}
        if requested not in TRIGGERABLE:
            return {"status": "NotImplemented"}
        return Reply({"status": "Accepted"}, self.later(lambda: send_triggered(station, requested, connector_id)))
