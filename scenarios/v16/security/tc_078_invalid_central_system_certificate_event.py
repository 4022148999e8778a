"""TC_078_CSMS: Invalid CentralSystemCertificate Security Event (OCTT 1.6, section 3.21.2, Table 185)."""

from __future__ import annotations

from ocpp_users.v16.security_events import SecurityEvent
from scenarios.base import Case, register
from scenarios.context import Context
from scenarios.options import RunOptions
from scenarios.v16.security._security import configured_root, expect_certificate, needs_tls, security_event

KIND = "CentralSystemRootCertificate"


@register
class InvalidCentralSystemCertificateEvent(Case):
    """ "To check if the Central System can handle it when a Charge Point registers a security event
    and notifies the Central System about it."

    Applies over TLS (security profile 2 or 3). The CSMS sends InstallCertificate.req for a
    CentralSystemRootCertificate with <Configured certificate> (``--root-certificate``; a fresh
    root by default): step 1 checks the type and the certificate. "For this testcase the OCTT will
    reject any certificate": the Tool answers Rejected and sends a SecurityEventNotification.req of
    type InvalidCentralSystemCertificate, which the CSMS must answer with a valid conf. Nothing is
    installed.
    """

    case_id = "TC_078_CSMS"
    title = "Invalid CentralSystemCertificate Security Event"
    section = "3.21.2"
    table = 185
    profile = "Security"
    set_up = "wss:// (security profile 2 or 3); --root-certificate"
    cp_actions = ("SecurityEventNotification",)
    csms_actions = ("InstallCertificate",)
    steps = (
        "Prerequisite: The Central System supports Security profile 2 and/or 3.",
        "1. The Central System sends an InstallCertificate.req",
        "2. The Charge Point responds with an InstallCertificate.conf",
        "3. The Charge Point sends a SecurityEventNotification.req",
        "4. The Central System responds with a SecurityEventNotification.conf",
    )

    @classmethod
    def not_applicable(cls, options: RunOptions) -> str | None:
        return needs_tls(options)

    def run(self, ctx: Context) -> None:
        root = configured_root(ctx)
        call = ctx.csms_call(
            "InstallCertificate", {"certificateType": KIND, "certificate": root}, step=1, answer="Rejected"
        )
        ctx.expect("certificateType", KIND, call.payload, step=1, message="InstallCertificate.req")
        expect_certificate(ctx, call, "certificate", root, step=1, what="<Configured certificate>")
        ctx.expect_own("status", "Rejected", call.answer or {}, step=2, message="InstallCertificate.conf")
        security_event(
            ctx,
            SecurityEvent.invalid_central_system_certificate,
            "the CentralSystemRootCertificate was rejected (OCTT TC_078: the Tool rejects any certificate)",
            step=3,
        )
