"""TC_067_CSMS: Clear Charging Profile (OCTT 1.6, section 3.19.3, Table 176)."""

from __future__ import annotations

from typing import Any

from scenarios.base import Case, register
from scenarios.context import Context
from scenarios.results import lookup
from scenarios.v16.smart_charging._profiles import set_profile_accepted, tx_default_profile

CRITERIA = ("id", "connectorId", "chargingProfilePurpose", "stackLevel")


@register
class ClearChargingProfile(Case):
    """ "To check whether the Central System can clear a charging profile."

    Three TxDefaultProfiles on <Configured ConnectorId> at <Configured Stack Level>, +1 and +2;
    then a clear by the id of profile 1 (nothing else), a clear by criteria (connectorId,
    TxDefaultProfile, stack level +1; no id), and a clear with no field at all. The Tool's real
    handlers answer: Accepted for each profile it installs, and for each clear that matches an
    installed profile (a clear that matches none is answered Unknown, which FAILS the case at
    that step).
    """

    case_id = "TC_067_CSMS"
    title = "Clear Charging Profile"
    section = "3.19.3"
    table = 176
    profile = "SmartCharging"
    csms_actions = ("SetChargingProfile", "ClearChargingProfile")
    steps = (
        "Prerequisite: The Central System supports the Smart Charging feature profile.",
        "Manual Action: Set three different charging profiles. Steps 1-2 are therefor repeated three times.",
        "1. The Central System sends a SetChargingProfile.req",
        "2. The Charge Point responds with a SetChargingProfile.conf",
        "Manual Action: Clear a charging profile based on ID.",
        "3. The Central System sends a ClearChargingProfile.req",
        "4. The Charge Point responds with a ClearChargingProfile.conf",
        "Manual Action: Clear a charging profile based on criteria.",
        "5. The Central System sends a ClearChargingProfile.req",
        "6. The Charge Point responds with a ClearChargingProfile.conf",
        "Manual Action: Clear all remaining charging profiles.",
        "7. The Central System sends a ClearChargingProfile.req",
        "8. The Charge Point responds with a ClearChargingProfile.conf",
    )

    def run(self, ctx: Context) -> None:
        base = ctx.options.test_data.stack_level
        cid = ctx.connector_id
        ids: list[Any] = []
        for number in range(3):
            label = f"<Configured Stack Level + {number}>" if number else "<Configured Stack Level>"
            call = ctx.csms_call("SetChargingProfile", tx_default_profile(ctx, base + number), step=1)
            message = f"SetChargingProfile.req (charging profile {number + 1})"
            ctx.expect("connectorId", cid, call.payload, step=1, message=message)
            ctx.expect(
                "csChargingProfiles.chargingProfilePurpose", "TxDefaultProfile", call.payload, step=1, message=message
            )
            ctx.expect_that(
                "csChargingProfiles.stackLevel",
                lookup(call.payload, "csChargingProfiles.stackLevel") == base + number,
                call.payload,
                step=1,
                message=message,
                expected=f"{base + number} ({label})",
            )
            set_profile_accepted(ctx, call, step=1)
            ids.append(lookup(call.payload, "csChargingProfiles.chargingProfileId"))

        by_id = ctx.csms_call("ClearChargingProfile", {"id": ids[0]}, step=3)
        ctx.expect("id", ids[0], by_id.payload, step=3, message="ClearChargingProfile.req")
        for field in CRITERIA[1:]:
            ctx.expect_absent(field, by_id.payload, step=3, message="ClearChargingProfile.req")
        self._accepted(ctx, by_id, 3, "id", f"{ids[0]} (<Generated Id from charging profile 1>)")

        criteria = {"connectorId": cid, "chargingProfilePurpose": "TxDefaultProfile", "stackLevel": base + 1}
        by_criteria = ctx.csms_call("ClearChargingProfile", criteria, step=5)
        ctx.expect_absent("id", by_criteria.payload, step=5, message="ClearChargingProfile.req")
        for field, value in criteria.items():
            ctx.expect(field, value, by_criteria.payload, step=5, message="ClearChargingProfile.req")
        self._accepted(ctx, by_criteria, 5, "stackLevel", f"{base + 1} (the stack level of charging profile 2)")

        everything = ctx.csms_call("ClearChargingProfile", {}, step=7)
        for field in CRITERIA:
            ctx.expect_absent(field, everything.payload, step=7, message="ClearChargingProfile.req")
        self._accepted(ctx, everything, 7, "", "no field (clear every remaining profile)")

    @staticmethod
    def _accepted(ctx: Context, call: Any, step: int, field: str, wanted: str) -> None:
        ctx.charger_answer(call, "Accepted", step=step, field=field, wanted=wanted)
