"""TC_081_CSMS: Secure Firmware Update - Invalid Signature (OCTT 1.6, section 3.21.3, Table 188)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context
from scenarios.options import RunOptions
from scenarios.v16.security._security import (
    needs_security_profile,
    needs_signed_firmware,
    signed_firmware_status,
    signed_update_firmware,
)


@register
class SecureFirmwareUpdateInvalidSignature(Case):
    """ "To check whether the Central System is able to handle messages from a Charge Point when it
    reports that the signature is invalid."

    Applies as TC_080 does, without the valid signature: the CSMS sends SignedUpdateFirmware.req
    with <Firmware Download URL from test data> (``--firmware-url``), <Configured
    signingCertificate> and <An invalid signature.> (``--invalid-firmware-signature``; by default
    the base64 of a text that signs nothing). The Tool cannot check a real image, so it plays the
    charge point that deems the signature invalid: Downloading, Downloaded, InvalidSignature (each
    with the request's requestId); the CSMS must answer each with a valid conf.
    """

    case_id = "TC_081_CSMS"
    title = "Secure Firmware Update - Invalid Signature"
    section = "3.21.3"
    table = 188
    profile = "Security"
    set_up = "a security profile; --manufacturer-root, --signing-certificate, --invalid-firmware-signature"
    also_profiles = ("FirmwareManagement",)
    cp_actions = ("SignedFirmwareStatusNotification",)
    csms_actions = ("SignedUpdateFirmware",)
    steps = (
        "Prerequisite: The Central System supports the Firmware Management feature profile AND a security profile.",
        "1. The Central System sends a SignedUpdateFirmware.req",
        "2. The Charge Point sends a SignedUpdateFirmware.conf",
        "3. [The Charge Point starts downloading the firmware] The Charge Point sends a "
        "SignedFirmwareStatusNotification.req",
        "4. The Central System responds with a SignedFirmwareStatusNotification.conf",
        "5. [The Charge Point has finished downloading the firmware] The Charge Point sends a "
        "SignedFirmwareStatusNotification.req",
        "6. The Central System responds with a SignedFirmwareStatusNotification.conf",
        "7. [The Charge Point verifies the signature and deems it invalid] The Charge Point sends a "
        "SignedFirmwareStatusNotification.req",
        "8. The Central System responds with a SignedFirmwareStatusNotification.conf",
    )

    @classmethod
    def not_applicable(cls, options: RunOptions) -> str | None:
        return needs_security_profile(options) or needs_signed_firmware(options, valid_signature=False)

    def run(self, ctx: Context) -> None:
        signature = ctx.options.test_data.invalid_firmware_signature
        request = signed_update_firmware(ctx, signature, "<An invalid signature.>")
        signed_firmware_status(ctx, "Downloading", request, step=3)
        signed_firmware_status(ctx, "Downloaded", request, step=5)
        signed_firmware_status(ctx, "InvalidSignature", request, step=7)
