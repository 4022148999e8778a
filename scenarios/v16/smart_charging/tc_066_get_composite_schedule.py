"""TC_066_CSMS: Get Composite Schedule (OCTT 1.6, section 3.19.2, Table 175)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context
from scenarios.results import Check


@register
class GetCompositeSchedule(Case):
    """ "To check whether the Central System is able to request a composite schedule."

    The request must name <Configured ConnectorId>, <Configured Charging Schedule Duration>
    (``--schedule-duration``) and <Configured Charging Rate Unit> (``--charging-rate-unit``). The
    Tool's real handler answers Accepted with the composite schedule of its installed profiles
    (none: the charger's maximum).
    """

    case_id = "TC_066_CSMS"
    title = "Get Composite Schedule"
    section = "3.19.2"
    table = 175
    profile = "SmartCharging"
    csms_actions = ("GetCompositeSchedule",)
    steps = (
        "Prerequisite: The Central System supports the Smart Charging feature profile.",
        "1. The Central System sends a GetCompositeSchedule.req",
        "2. The Charge Point responds with a GetCompositeSchedule.conf",
    )

    def run(self, ctx: Context) -> None:
        data = ctx.options.test_data
        payload = {
            "connectorId": ctx.connector_id,
            "duration": data.duration,
            "chargingRateUnit": data.charging_rate_unit,
        }
        call = ctx.csms_call("GetCompositeSchedule", payload, step=1)
        message = "GetCompositeSchedule.req"
        ctx.expect("connectorId", ctx.connector_id, call.payload, step=1, message=message)
        ctx.expect("duration", data.duration, call.payload, step=1, message=message)
        ctx.expect("chargingRateUnit", data.charging_rate_unit, call.payload, step=1, message=message)
        ctx.charger_answer(call, "Accepted", step=1, field="connectorId", wanted=f"{ctx.connector_id}")
        schedule = (call.answer or {}).get("chargingSchedule")
        ctx.record(
            Check(
                "2",
                "GetCompositeSchedule.conf",
                "chargingSchedule",
                "a composite schedule",
                str(schedule),
                bool(schedule),
                side="tool",
            )
        )
