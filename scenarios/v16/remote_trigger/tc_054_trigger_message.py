"""TC_054_CSMS: Trigger Message (OCTT 1.6, section 3.18.1, Table 171)."""

from __future__ import annotations

from typing import Any

from scenarios.base import Case, register
from scenarios.context import Context, timestamp


@register
class TriggerMessage(Case):
    """ "Check whether the Central System is able to trigger a message from the Charge Point."

    Five TriggerMessage.req in turn: MeterValues and StatusNotification for <Configured
    ConnectorId>, Heartbeat, DiagnosticsStatusNotification, FirmwareStatusNotification. The
    Tool's real handler answers each (Accepted for a message it can send and a connector it
    has; the FirmwareStatusNotification is implemented, so Accepted, which the document allows
    beside NotImplemented), then sends the requested message: the charge point "SHALL first send
    the TriggerMessage response, before sending the requested message" (OCPP 1.6 §5.17). The
    diagnostics and firmware notifications report Idle (nothing is under way, OCTT §1.3).
    """

    case_id = "TC_054_CSMS"
    title = "Trigger Message"
    section = "3.18.1"
    table = 171
    profile = "RemoteTrigger"
    cp_actions = (
        "MeterValues",
        "Heartbeat",
        "StatusNotification",
        "DiagnosticsStatusNotification",
        "FirmwareStatusNotification",
    )
    csms_actions = ("TriggerMessage",)
    steps = (
        "Prerequisite: The Central System supports the Remote Trigger feature profile.",
        "1. The Central System sends a TriggerMessage.req",
        "2. The Charge Point responds with a TriggerMessage.conf",
        "3. The Charge Point sends a MeterValues.req",
        "4. The Central System responds with a MeterValues.conf",
        "5. The Central System sends a TriggerMessage.req",
        "6. The Charge Point responds with a TriggerMessage.conf",
        "7. The Charge Point sends a Heartbeat.req",
        "8. The Central System responds with a Heartbeat.conf",
        "9. The Central System sends a TriggerMessage.req",
        "10. The Charge Point responds with a TriggerMessage.conf",
        "11. The Charge Point sends a StatusNotification.req",
        "12. The Central System responds with a StatusNotification.conf",
        "13. The Central System sends a TriggerMessage.req",
        "14. The Charge Point responds with a TriggerMessage.conf",
        "15. The Charge Point sends a DiagnosticsStatusNotification.req",
        "16. The Central System responds with a DiagnosticsStatusNotification.conf",
        "17. The Central System sends a TriggerMessage.req",
        "18. The Charge Point responds with a TriggerMessage.conf",
        "19. [The following message will be sent if implemented.] The Charge Point sends a "
        "FirmwareStatusNotification.req",
        "20. The Central System responds with a FirmwareStatusNotification.conf",
    )

    def run(self, ctx: Context) -> None:
        cid = ctx.connector_id
        self._trigger(ctx, "MeterValues", 1, cid)
        meter = {"timestamp": timestamp(), "sampledValue": [{"value": "0", "context": "Trigger"}]}
        ctx.exchange("MeterValues", {"connectorId": cid, "meterValue": [meter]}, step=3)
        self._trigger(ctx, "Heartbeat", 5)
        ctx.heartbeat(step=7)
        self._trigger(ctx, "StatusNotification", 9, cid)
        ex = ctx.status(cid, str(ctx.cp.connectors[cid].status), step=11)
        ctx.expect_own("connectorId", cid, ex.request, step=11, message="StatusNotification.req")
        self._trigger(ctx, "DiagnosticsStatusNotification", 13)
        ex = ctx.exchange("DiagnosticsStatusNotification", {"status": "Idle"}, step=15)
        ctx.expect_own("status", "Idle", ex.request, step=15, message="DiagnosticsStatusNotification.req")
        self._trigger(ctx, "FirmwareStatusNotification", 17)
        ex = ctx.exchange("FirmwareStatusNotification", {"status": "Idle"}, step=19)
        ctx.expect_own("status", "Idle", ex.request, step=19, message="FirmwareStatusNotification.req")

    @staticmethod
    def _trigger(ctx: Context, requested: str, step: int, connector_id: int | None = None) -> None:
        payload: dict[str, Any] = {"requestedMessage": requested}
        if connector_id is not None:
            payload["connectorId"] = connector_id
        call = ctx.csms_call("TriggerMessage", payload, step=step)
        ctx.expect("requestedMessage", requested, call.payload, step=step, message="TriggerMessage.req")
        if connector_id is not None:
            ctx.expect("connectorId", connector_id, call.payload, step=step, message="TriggerMessage.req")
        ctx.charger_answer(
            call,
            "Accepted",
            step=step,
            field="connectorId" if connector_id is not None else "requestedMessage",
            wanted=f"{connector_id}" if connector_id is not None else requested,
        )
