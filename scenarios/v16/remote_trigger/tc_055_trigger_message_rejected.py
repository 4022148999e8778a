"""TC_055_CSMS: Trigger Message - Rejected (OCTT 1.6, section 3.18.2, Table 172)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context


@register
class TriggerMessageRejected(Case):
    """ "To check whether the Central System is able to handle a reject on a triggered message."

    The CSMS asks for MeterValues of <Configured NumberOfConnectors + 1>, a connector the charge
    point does not have: the Tool's real handler answers Rejected and sends nothing.
    """

    case_id = "TC_055_CSMS"
    title = "Trigger Message - Rejected"
    section = "3.18.2"
    table = 172
    profile = "RemoteTrigger"
    csms_actions = ("TriggerMessage",)
    steps = (
        "Prerequisite: The Central System supports the Remote Trigger feature profile. The Central System "
        "supports sending a TriggerMessage.req for a non-configured connector.",
        "1. The Central System sends a TriggerMessage.req",
        "2. The Charge Point responds with a TriggerMessage.conf",
    )

    def run(self, ctx: Context) -> None:
        beyond = max(ctx.cp.connectors) + 1
        call = ctx.csms_call("TriggerMessage", {"requestedMessage": "MeterValues", "connectorId": beyond}, step=1)
        ctx.expect("requestedMessage", "MeterValues", call.payload, step=1, message="TriggerMessage.req")
        ctx.expect("connectorId", beyond, call.payload, step=1, message="TriggerMessage.req")
        ctx.charger_answer(
            call,
            "Rejected",
            step=1,
            field="connectorId",
            wanted=f"{beyond} (<Configured NumberOfConnectors + 1>)",
        )
