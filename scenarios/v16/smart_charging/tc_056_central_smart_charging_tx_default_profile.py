"""TC_056_CSMS: Central Smart Charging - TxDefaultProfile (OCTT 1.6, section 3.19.1, Table 173)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context
from scenarios.results import is_missing, lookup
from scenarios.v16.smart_charging._profiles import set_profile_accepted, tx_default_profile

PROFILE = "csChargingProfiles"
SCHEDULE = "csChargingProfiles.chargingSchedule"
PERIOD = "csChargingProfiles.chargingSchedule.chargingSchedulePeriod.0"


@register
class CentralSmartChargingTxDefaultProfile(Case):
    """ "To check whether the Central System can set a default schedule for new transactions."

    Every field the document lists is checked against the test data (``--stack-level``,
    ``--charging-rate-unit``, ``--schedule-duration``, ``--start-period``, ``--number-phases``):
    the limit must be 6.0 or 6000.0; numberPhases may be omitted when the configured number is 3.
    The Tool's real handler installs the profile and answers Accepted.
    """

    case_id = "TC_056_CSMS"
    title = "Central Smart Charging - TxDefaultProfile"
    section = "3.19.1"
    table = 173
    profile = "SmartCharging"
    csms_actions = ("SetChargingProfile",)
    steps = (
        "Prerequisite: The Central System supports the Smart Charging feature profile.",
        "1. The Central System sends a SetChargingProfile.req",
        "2. The Charge Point responds with a SetChargingProfile.conf",
    )

    def run(self, ctx: Context) -> None:
        data = ctx.options.test_data
        call = ctx.csms_call("SetChargingProfile", tx_default_profile(ctx, data.stack_level), step=1)
        req = call.payload
        message = "SetChargingProfile.req"
        ctx.expect("connectorId", ctx.connector_id, req, step=1, message=message)
        ctx.expect(f"{PROFILE}.stackLevel", data.stack_level, req, step=1, message=message)
        ctx.expect(f"{PROFILE}.chargingProfilePurpose", "TxDefaultProfile", req, step=1, message=message)
        ctx.expect(f"{PROFILE}.chargingProfileKind", "Absolute", req, step=1, message=message)
        ctx.expect_present(f"{PROFILE}.validFrom", req, step=1, message=message, what="<Not omitted>")
        ctx.expect_present(f"{PROFILE}.validTo", req, step=1, message=message, what="<Not omitted>")
        ctx.expect_present(f"{SCHEDULE}.startSchedule", req, step=1, message=message, what="<Not omitted>")
        ctx.expect(f"{SCHEDULE}.chargingRateUnit", data.charging_rate_unit, req, step=1, message=message)
        ctx.expect(f"{SCHEDULE}.duration", data.duration, req, step=1, message=message)
        ctx.expect(f"{PERIOD}.startPeriod", data.start_period, req, step=1, message=message)
        ctx.expect_in(f"{PERIOD}.limit", (6.0, 6000.0), req, step=1, message=message)
        phases = lookup(req, f"{PERIOD}.numberPhases")
        if data.number_phases == 3 and is_missing(phases):
            ctx.expect_absent(f"{PERIOD}.numberPhases", req, step=1, message=message)
        else:
            ctx.expect(f"{PERIOD}.numberPhases", data.number_phases, req, step=1, message=message)
        set_profile_accepted(ctx, call, step=1)
