"""TC_040_2_CSMS: Configuration keys (OCTT 1.6, section 3.13.2, Table 149)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context


@register
class RejectedConfigurationValue(Case):
    """ "To test if the Central System is able to handle a Charge Point rejecting setting a
    configuration key." The request must set MeterValueSampleInterval to "-1" (the key compared
    case-insensitively, a CiString50); the Tool answers Rejected."""

    case_id = "TC_040_2_CSMS"
    title = "Configuration keys"
    section = "3.13.2"
    table = 149
    csms_actions = ("ChangeConfiguration",)
    steps = (
        "1. The Central System sends a ChangeConfiguration.req",
        "2. The Charge Point responds with a ChangeConfiguration.conf",
    )

    def run(self, ctx: Context) -> None:
        call = ctx.csms_call(
            "ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "-1"}, step=1, answer="Rejected"
        )
        ctx.expect_ci("key", "MeterValueSampleInterval", call.payload, step=1, message="ChangeConfiguration.req")
        ctx.expect("value", "-1", call.payload, step=1, message="ChangeConfiguration.req")
        ctx.expect_own("status", "Rejected", call.answer, step=2, message="ChangeConfiguration.conf")
