"""TC_044_1_CSMS: Firmware Update - Download and Install (OCTT 1.6, section 3.15.1, Table 156)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context
from scenarios.v16.firmware._firmware import firmware_status, install, update_firmware


@register
class FirmwareUpdateDownloadAndInstall(Case):
    """ "Check whether Central System can trigger an update of the firmware of a Charge Point."

    The CSMS must name <Firmware Download URL from test data> (``--firmware-url``) as the
    location. The Tool downloads nothing (the verdict is on the CSMS's messages): it reports
    Downloading, Downloaded, its connectors Unavailable, Installing, reboots (BootNotification,
    which must be Accepted to go on), reports its connectors Available and Installed.
    """

    case_id = "TC_044_1_CSMS"
    title = "Firmware Update - Download and Install"
    section = "3.15.1"
    table = 156
    profile = "FirmwareManagement"
    cp_actions = ("FirmwareStatusNotification", "StatusNotification", "BootNotification")
    csms_actions = ("UpdateFirmware",)
    steps = (
        "Prerequisite: The Central System supports the Firmware Management feature profile.",
        "1. The Central System sends a UpdateFirmware.req",
        "2. The Charge Point responds with a UpdateFirmware.conf",
        "3. [The Charge Point starts downloading the firmware] The Charge Point sends a FirmwareStatusNotification.req",
        "4. The Central responds with a FirmwareStatusNotification.conf",
        "5. [The Charge Point has finished downloading the firmware] The Charge Point sends a "
        "FirmwareStatusNotification.req",
        "6. The Central responds with a FirmwareStatusNotification.conf",
        "7. [The Charge Point reports the status of all connectors] The Charge Point sends a StatusNotification.req",
        "8. The Central responds with a StatusNotification.conf",
        "9. [The Charge Point starts installing the firmware] The Charge Point sends a FirmwareStatusNotification.req",
        "10. The Central responds with a FirmwareStatusNotification.conf",
        "11. The Charge Point sends a BootNotification.req",
        "12. The Central responds with a BootNotification.conf",
        "13. [The Charge Point reports the status of all connectors] The Charge Point sends a StatusNotification.req",
        "14. The Central responds with a StatusNotification.conf",
        "15. The Charge Point sends a FirmwareStatusNotification.req",
        "16. The Central responds with a FirmwareStatusNotification.conf",
    )

    def run(self, ctx: Context) -> None:
        call = update_firmware(ctx, step=1)
        ctx.expect("location", ctx.options.test_data.firmware_url, call.payload, step=1, message="UpdateFirmware.req")
        firmware_status(ctx, "Downloading", step=3)
        firmware_status(ctx, "Downloaded", step=5)
        install(ctx, "Installed")
