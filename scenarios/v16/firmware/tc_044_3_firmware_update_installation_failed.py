"""TC_044_3_CSMS: Firmware Update - Installation Failed (OCTT 1.6, section 3.15.3, Table 158)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context
from scenarios.v16.firmware._firmware import firmware_status, install, update_firmware


@register
class FirmwareUpdateInstallationFailed(Case):
    """ "Check whether Central System can handle messages for an update of the firmware of a Charge
    Point in case the installation fails."

    As TC_044_1, with InstallationFailed after the reboot; the document has no check on the
    CSMS's side beyond valid answers (and an Accepted BootNotification, without which the Tool may
    send nothing more).
    """

    case_id = "TC_044_3_CSMS"
    title = "Firmware Update - Installation Failed"
    section = "3.15.3"
    table = 158
    profile = "FirmwareManagement"
    cp_actions = ("FirmwareStatusNotification", "StatusNotification", "BootNotification")
    csms_actions = ("UpdateFirmware",)
    steps = (
        "Prerequisite: The Central System supports the Firmware Management feature profile",
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
        "11. The Charge point reboots and sends a BootNotification.req",
        "12. The Central System responds with a BootNotification.conf",
        "13. [The Charge Point reports the status of all connectors] The Charge Point sends a StatusNotification.req",
        "14. The Central responds with a StatusNotification.conf",
        "15. The Charge Point sends a FirmwareStatusNotification.req",
        "16. The Central responds with a FirmwareStatusNotification.conf",
    )

    def run(self, ctx: Context) -> None:
        update_firmware(ctx, step=1)
        firmware_status(ctx, "Downloading", step=3)
        firmware_status(ctx, "Downloaded", step=5)
        install(ctx, "InstallationFailed")
