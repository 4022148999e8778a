"""TC_045_1_CSMS: Get Diagnostics (OCTT 1.6, section 3.16.1, Table 159)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context
from scenarios.v16.firmware._firmware import diagnostics_status


@register
class GetDiagnostics(Case):
    """ "The purpose of this test case it to check whether Central System can trigger the Charge
    Point to upload its diagnostics."

    GetDiagnostics belongs to the Firmware Management profile (OCPP 1.6 §3). The Tool's real
    handler answers with a fileName; it reports Uploading, then Uploaded. It uploads no file (the
    verdict is on the CSMS's messages; the document's "Expected result" on the upload is the
    charge point's).
    """

    case_id = "TC_045_1_CSMS"
    title = "Get Diagnostics"
    section = "3.16.1"
    table = 159
    profile = "FirmwareManagement"
    cp_actions = ("DiagnosticsStatusNotification",)
    csms_actions = ("GetDiagnostics",)
    steps = (
        "1. The Central System sends a GetDiagnostics.req to the Charge Point.",
        "2. The Charge Point responds with a GetDiagnostics.conf to the Central System.",
        "3. [The Charge Point starts uploading the diagnostics log.] The Charge Point sends a "
        "DiagnosticsStatusNotification.req to the Central System.",
        "4. The Central responds with a DiagnosticsStatusNotification.conf to the Charge Point.",
        "5. [The Charge Point has finished uploading the diagnostics log.] The Charge Point sends a "
        "DiagnosticsStatusNotification.req to the Central System.",
        "6. The Central responds with a DiagnosticsStatusNotification.conf to the Charge Point.",
    )

    def run(self, ctx: Context) -> None:
        ctx.csms_call("GetDiagnostics", {"location": ctx.options.test_data.diagnostics_url}, step=1)
        diagnostics_status(ctx, "Uploading", step=3)
        diagnostics_status(ctx, "Uploaded", step=5)
