"""TC_079_CSMS: Get Security Log (OCTT 1.6, section 3.21.2, Table 186)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context
from scenarios.options import RunOptions
from scenarios.v16.security._security import log_status, needs_security_profile, request_id


@register
class GetSecurityLog(Case):
    """ "To check whether Central System can trigger a Charge Point to upload its security log."

    Applies with a security profile (1, 2 or 3). The CSMS sends GetLog.req: logType SecurityLog and
    log.remoteLocation <Configured log location> (``--log-location``). The charge point's own
    handler answers (Accepted, with the file name). The Tool uploads nothing (the verdict is on the
    CSMS's messages): it reports Uploading, then Uploaded, each with the request's requestId
    (whitepaper N01.FR.07); the CSMS must answer each with a valid conf.
    """

    case_id = "TC_079_CSMS"
    title = "Get Security Log"
    section = "3.21.2"
    table = 186
    profile = "Security"
    set_up = "a security profile (1, 2 or 3); --log-location"
    cp_actions = ("LogStatusNotification",)
    csms_actions = ("GetLog",)
    steps = (
        "Prerequisite: The Central System supports a security profile.",
        "1. The Central System sends a GetLog.req.",
        "2. The Charge Point responds with a GetLog.conf.",
        "3. [The Charge Point starts uploading the security log.] The Charge Point sends a LogStatusNotification.req.",
        "4. The Central System responds with a LogStatusNotification.conf.",
        "5. [The Charge Point has finished uploading the security log.] The Charge Point sends a "
        "LogStatusNotification.req.",
        "6. The Central System responds with a LogStatusNotification.conf.",
    )

    @classmethod
    def not_applicable(cls, options: RunOptions) -> str | None:
        return needs_security_profile(options)

    def run(self, ctx: Context) -> None:
        location = ctx.options.test_data.log_location
        payload = {"logType": "SecurityLog", "requestId": request_id(), "log": {"remoteLocation": location}}
        call = ctx.csms_call("GetLog", payload, step=1)
        ctx.expect("logType", "SecurityLog", call.payload, step=1, message="GetLog.req")
        ctx.expect("log.remoteLocation", location, call.payload, step=1, message="GetLog.req")
        ctx.charger_answer(call, "Accepted", step=1, field="logType", wanted="SecurityLog")
        request = call.payload["requestId"]
        log_status(ctx, "Uploading", request, step=3)
        log_status(ctx, "Uploaded", request, step=5)
