"""TC_044_2_CSMS: Firmware Update - Download Failed (OCTT 1.6, section 3.15.2, Table 157)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context
from scenarios.v16.firmware._firmware import firmware_status, update_firmware


@register
class FirmwareUpdateDownloadFailed(Case):
    """ "Check whether Central System can handle messages for a firmware update in case downloading
    of the firmware fails."

    The Tool reports Downloading, then DownloadFailed; the CSMS must answer both.
    """

    case_id = "TC_044_2_CSMS"
    title = "Firmware Update - Download Failed"
    section = "3.15.2"
    table = 157
    profile = "FirmwareManagement"
    cp_actions = ("FirmwareStatusNotification",)
    csms_actions = ("UpdateFirmware",)
    steps = (
        "Prerequisite: The Central System supports the Firmware Management feature profile.",
        "1. The Central System sends a UpdateFirmware.req",
        "2. The Charge Point responds with a UpdateFirmware.conf",
        "3. [The Charge Point starts downloading the firmware] The Charge Point sends a FirmwareStatusNotification.req",
        "4. The Central responds with a FirmwareStatusNotification.conf",
        "5. [Downloading the firmware fails] The Charge Point sends a FirmwareStatusNotification.req",
        "6. The Central responds with a FirmwareStatusNotification.conf",
    )

    def run(self, ctx: Context) -> None:
        update_firmware(ctx, step=1)
        firmware_status(ctx, "Downloading", step=3)
        firmware_status(ctx, "DownloadFailed", step=5)
