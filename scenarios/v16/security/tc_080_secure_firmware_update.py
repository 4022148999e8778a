"""TC_080_CSMS: Secure Firmware Update (OCTT 1.6, section 3.21.3, Table 187)."""

from __future__ import annotations

from ocpp_users.v16.security_events import SecurityEvent
from scenarios.base import Case, register
from scenarios.context import Context
from scenarios.options import RunOptions
from scenarios.v16.firmware._firmware import all_connectors
from scenarios.v16.security._security import (
    needs_security_profile,
    needs_signed_firmware,
    security_event,
    signed_firmware_status,
    signed_update_firmware,
)


@register
class SecureFirmwareUpdate(Case):
    """ "To check whether Central System can trigger a Charge Point to update its firmware in a secure
    way."

    Applies with a security profile (1, 2 or 3), the Firmware Management profile declared, and the
    configured firmware signing data: ``--signing-certificate`` (issued by a root of
    ``--manufacturer-root``, the charge point's factory ManufacturerRootCertificates) and
    ``--firmware-signature``. Step 1 checks location (``--firmware-url``), signature and
    signingCertificate against them; the charge point's own check of the signing certificate
    answers. The Tool downloads nothing (the verdict is on the CSMS's messages): it reports
    Downloading, Downloaded, SignatureVerified (each SignedFirmwareStatusNotification with the
    request's requestId, L01.FR.10), its connectors Unavailable (before Installing, as the document
    checks), Installing, InstallRebooting, reboots (BootNotification, which must be Accepted), then
    the SecurityEventNotification FirmwareUpdated, its connectors Available and Installed, in the
    document's order (steps 13 to 19 may come in any order).
    """

    case_id = "TC_080_CSMS"
    title = "Secure Firmware Update"
    section = "3.21.3"
    table = 187
    profile = "Security"
    set_up = "a security profile; --manufacturer-root, --signing-certificate, --firmware-signature, --firmware-url"
    also_profiles = ("FirmwareManagement",)
    cp_actions = ("SignedFirmwareStatusNotification", "SecurityEventNotification", "StatusNotification")
    csms_actions = ("SignedUpdateFirmware",)
    steps = (
        "Prerequisite: The Central System supports the Firmware Management feature profile AND a security profile.",
        "1. The Central System sends a SignedUpdateFirmware.req",
        "2. The Charge Point sends a SignedUpdateFirmware.conf",
        "3. The Charge Point sends a SignedFirmwareStatusNotification.req",
        "4. The Central System responds with a SignedFirmwareStatusNotification.conf",
        "5. [The Charge Point has finished downloading the firmware] The Charge Point sends a "
        "SignedFirmwareStatusNotification.req",
        "6. The Central System responds with a SignedFirmwareStatusNotification.conf",
        "7. [The Charge Point has verified the signature] The Charge Point sends a "
        "SignedFirmwareStatusNotification.req",
        "8. The Central System responds with a SignedFirmwareStatusNotification.conf",
        "[Before installing firmware the Charge Point MAY set all connectors to Unavailable. If the Charge Point "
        "supports installation of firmware during a charging session, the Charge Point MAY install the firmware "
        "after only setting all other connectors to Unavailable.]",
        "9. [The Charge Point starts installing the firmware] The Charge Point sends a "
        "SignedFirmwareStatusNotification.req",
        "10. The Central System responds with a SignedFirmwareStatusNotification.conf",
        "11. The Charge Point sends a SignedFirmwareStatusNotification.req",
        "12. The Central System responds with a SignedFirmwareStatusNotification.conf",
        "13. The Charge Point sends a BootNotification.req",
        "14. The Central System responds with a BootNotification.conf",
        "15. The Charge Point sends a SecurityEventNotification.req",
        "16. The Central System responds with a SecurityEventNotification.conf",
        "17. The Charge Point sends a StatusNotification.req",
        "18. The Central System responds with a StatusNotification.conf",
        "19. [The Charge Point has finished installing the firmware] The Charge Point sends a "
        "SignedFirmwareStatusNotification.req",
        "20. The Central System responds with a SignedFirmwareStatusNotification.conf",
    )

    @classmethod
    def not_applicable(cls, options: RunOptions) -> str | None:
        return needs_security_profile(options) or needs_signed_firmware(options, valid_signature=True)

    def run(self, ctx: Context) -> None:
        signature = ctx.options.test_data.firmware_signature
        assert signature is not None
        request = signed_update_firmware(ctx, signature, "<Configured signature>")
        signed_firmware_status(ctx, "Downloading", request, step=3)
        signed_firmware_status(ctx, "Downloaded", request, step=5)
        signed_firmware_status(ctx, "SignatureVerified", request, step=7)
        all_connectors(ctx, "Unavailable", step="after 2, before 9")
        signed_firmware_status(ctx, "Installing", request, step=9)
        signed_firmware_status(ctx, "InstallRebooting", request, step=11)
        ctx.disconnect(clean=True)
        ctx.sleep(ctx.options.reboot_delay)
        ctx.connect(step=13)
        boot = ctx.boot(step=13)
        ctx.expect("status", "Accepted", boot.response, step=14, message="BootNotification.conf")
        security_event(ctx, SecurityEvent.firmware_updated, f"requestId {request}", step=15)
        for ex in ctx.statuses(step=17):
            ctx.expect_own("status", "Available", ex.request, step=17, message="StatusNotification.req")
        signed_firmware_status(ctx, "Installed", request, step=19)
