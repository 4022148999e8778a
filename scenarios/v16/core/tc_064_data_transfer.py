"""TC_064_CSMS: Data Transfer to a Central System (OCTT 1.6, section 3.20.1, Table 178)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context

WARNING = "DataTransfer.conf status Accepted is allowed, but the vendor should be warned about this behaviour"


@register
class DataTransferUnknownVendor(Case):
    """ "To check whether the Central System can reject vendor specific messages."

    The Tool (the charge point) sends the DataTransfer.req, whatever the document's "to the
    Charge Point" says, with a vendorId the CSMS does not support (``--unknown-vendor-id``).
    Rejected, UnknownMessageId or UnknownVendorId pass; Accepted passes with a warning.
    """

    case_id = "TC_064_CSMS"
    title = "Data Transfer to a Central System"
    section = "3.20.1"
    table = 178
    cp_actions = ("DataTransfer",)
    steps = (
        "1. The Charge Point sends a DataTransfer.req message with a specific vendorId to the Charge Point.",
        "2. The Central System responds with a DataTransfer.conf message.",
    )

    def run(self, ctx: Context) -> None:
        ex = ctx.exchange("DataTransfer", {"vendorId": ctx.options.unknown_vendor_id, "messageId": "TC_064"}, step=1)
        ctx.expect_in(
            "status",
            ["Rejected", "UnknownMessageId", "UnknownVendorId"],
            ex.response,
            step=2,
            message="DataTransfer.conf",
            warn={"Accepted": WARNING},
        )
