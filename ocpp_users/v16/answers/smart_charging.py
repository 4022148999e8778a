"""Smart Charging profile: SetChargingProfile, ClearChargingProfile, GetCompositeSchedule."""

from __future__ import annotations

from datetime import UTC, datetime

from ocpp_users.ocppj.handlers import on
from ocpp_users.ocppj.rpc import Payload
from ocpp_users.v16.actions import Action
from ocpp_users.v16.answers.base import ProfileAnswers


class SmartChargingAnswers(ProfileAnswers):
    """Answers of the Smart Charging profile."""

    profile = "SmartCharging"

    @on(Action.set_charging_profile)
    def set_charging_profile(self, payload: Payload) -> Payload:
        state = self.state
        connector_id = payload["connectorId"]
        profile = payload["csChargingProfiles"]
        purpose = profile["chargingProfilePurpose"]
        if not state.valid_connector(connector_id):
            return {"status": "Rejected"}
        configuration = state.configuration
        if profile["stackLevel"] > configuration.get_int("ChargeProfileMaxStackLevel", 10):
            return {"status": "Rejected"}
        periods = profile["chargingSchedule"]["chargingSchedulePeriod"]
        if len(periods) > configuration.get_int("ChargingScheduleMaxPeriods", 24):
            # §9.4.3: "Maximum number of periods that may be defined per ChargingSchedule".
            return {"status": "Rejected"}
        if state.profiles.would_exceed(
            connector_id, profile, configuration.get_int("MaxChargingProfilesInstalled", 10)
        ):
            # §9.4.5: "Maximum number of Charging profiles installed at a time" (one that replaces
            # an installed profile, same id or same purpose and stack level, adds none).
            return {"status": "Rejected"}
        if purpose == "ChargePointMaxProfile" and connector_id != 0:
            return {"status": "Rejected"}
        if purpose == "TxProfile":
            # From the specification: a TxProfile "SHALL only be set ... when a transaction is active".
            connector = state.connectors[connector_id]
            if connector_id == 0 or not connector.charging:
                return {"status": "Rejected"}
            tx = profile.get("transactionId")
            if tx is not None and tx != connector.transaction_id:
                return {"status": "Rejected"}
        state.profiles.install(connector_id, profile)
        state.apply_limits()
        return {"status": "Accepted"}

    @on(Action.clear_charging_profile)
    def clear_charging_profile(self, payload: Payload) -> Payload:
        matched = self.state.profiles.clear(payload)
        self.state.apply_limits()
        return {"status": "Accepted" if matched else "Unknown"}

    @on(Action.get_composite_schedule)
    def get_composite_schedule(self, payload: Payload) -> Payload:
        connector_id = payload["connectorId"]
        if not self.state.valid_connector(connector_id):
            return {"status": "Rejected"}
        unit = payload.get("chargingRateUnit")
        return {
            "status": "Accepted",
            "connectorId": connector_id,
            "scheduleStart": datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
            "chargingSchedule": self.state.profiles.composite(connector_id, payload["duration"], unit),
        }
