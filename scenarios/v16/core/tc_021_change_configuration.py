"""TC_021_CSMS: Change/set Configuration (OCTT 1.6, section 3.7.3, Table 135)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context


@register
class ChangeConfiguration(Case):
    """ "To test if the Central System can handle when a Charge Point sets the configuration key
    value, specified by the Central System." The request must set MeterValueSampleInterval to
    "60" (a string in OCPP 1.6); the Tool applies it and answers Accepted. The key is a CiString50:
    compared case-insensitively, reported as sent."""

    case_id = "TC_021_CSMS"
    title = "Change/set Configuration"
    section = "3.7.3"
    table = 135
    csms_actions = ("ChangeConfiguration",)
    steps = (
        "1. The Central System sends a ChangeConfiguration.req",
        "2. The Charge Point responds with a ChangeConfiguration.conf",
    )

    def run(self, ctx: Context) -> None:
        call = ctx.csms_call("ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "60"}, step=1)
        ctx.expect_ci("key", "MeterValueSampleInterval", call.payload, step=1, message="ChangeConfiguration.req")
        ctx.expect("value", "60", call.payload, step=1, message="ChangeConfiguration.req")
        ctx.expect_own("status", "Accepted", call.answer, step=2, message="ChangeConfiguration.conf")
