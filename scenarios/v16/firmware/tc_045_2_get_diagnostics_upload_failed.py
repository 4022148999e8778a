"""TC_045_2_CSMS: Get Diagnostics - Upload Failed (OCTT 1.6, section 3.16.2, Table 160)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context
from scenarios.v16.firmware._firmware import diagnostics_status


@register
class GetDiagnosticsUploadFailed(Case):
    """ "Check whether Central System can handle messages for the situation that the upload fails
    when getting the diagnostics."

    The Tool reports Uploading, then UploadFailed; the CSMS must answer both.
    """

    case_id = "TC_045_2_CSMS"
    title = "Get Diagnostics - Upload Failed"
    section = "3.16.2"
    table = 160
    profile = "FirmwareManagement"
    cp_actions = ("DiagnosticsStatusNotification",)
    csms_actions = ("GetDiagnostics",)
    steps = (
        "1. The Central System sends a GetDiagnostics.req to the Charge Point.",
        "2. The Charge Point responds with a GetDiagnostics.conf to the Central System.",
        "3. [The Charge Point starts uploading the diagnostics log.] The Charge Point sends a "
        "DiagnosticsStatusNotification.req to the Central System.",
        "4. The Central responds with a DiagnosticsStatusNotification.conf to the Charge Point.",
        "5. [The Charge Point has failed uploading the diagnostics log.] The Charge Point sends a "
        "DiagnosticsStatusNotification.req to the Central System.",
        "6. The Central responds with a DiagnosticsStatusNotification.conf to the Charge Point.",
    )

    def run(self, ctx: Context) -> None:
        ctx.csms_call("GetDiagnostics", {"location": ctx.options.test_data.diagnostics_url}, step=1)
        diagnostics_status(ctx, "Uploading", step=3)
        diagnostics_status(ctx, "UploadFailed", step=5)
