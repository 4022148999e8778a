"""TC_077_CSMS: Invalid ChargePointCertificate Security Event (OCTT 1.6, section 3.21.2, Table 184)."""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ocpp_users.v16.security_events import SecurityEvent
from scenarios.base import Case, register
from scenarios.context import Context
from scenarios.options import RunOptions
from scenarios.results import Check
from scenarios.v16.security._security import (
    certificate_text,
    needs_client_certificate,
    security_event,
    sign_certificate,
    trigger_sign,
)
from scenarios.wire import InboundCall


@register
class InvalidChargePointCertificateEvent(Case):
    """ "To check if the Central System can handle when a Charge Point registers a security event and
    notifies the Central System about it."

    Applies as TC_074 does (security profile 3). Steps 1 to 4 as in TC_074. Step 5: the
    CertificateSigned.req must carry <Signed ChargePointCertificate>: a PEM certificate for the key
    of the Tool's CSR. The Tool then plays the charge point that finds the certificate invalid (the
    document's Tool rejects it whatever it is): CertificateSigned.conf Rejected, and a
    SecurityEventNotification.req of type InvalidChargePointCertificate, which the CSMS must
    answer with a valid conf. The certificate is not used.
    """

    case_id = "TC_077_CSMS"
    title = "Invalid ChargePointCertificate Security Event"
    section = "3.21.2"
    table = 184
    profile = "Security"
    set_up = (
        "security profile 3: wss://, --client-cert/--client-key, --ca-file with the root of the CSMS's CA; --cpo-name"
    )
    cp_actions = ("SignCertificate", "SecurityEventNotification")
    csms_actions = ("ExtendedTriggerMessage",)
    steps = (
        "Prerequisite: The Central System supports security profile 3.",
        "1. The Central System sends a ExtendedTriggerMessage.req",
        "2. The Charge Point responds with a ExtendedTriggerMessage.conf",
        "3. [The Charge Point generates a new public/private key pair and generates a Certificate Signing "
        "Request.] The Charge Point sends a SignCertificate.req.",
        "4. The Central System responds with a SignCertificate.conf.",
        "5. The Central System sends a CertificateSigned.req.",
        "6. [The Charge Point verifies the validity of the signed certificate.] The Charge Point responds with a "
        "CertificateSigned.conf.",
        "7. The Charge Point sends a SecurityEventNotification.req",
        "8. The Central System responds with a SecurityEventNotification.conf",
    )

    @classmethod
    def not_applicable(cls, options: RunOptions) -> str | None:
        return needs_client_certificate(options)

    def run(self, ctx: Context) -> None:
        ctx.use_client_certificate(step="Before")
        ctx.answer("CertificateSigned", "Rejected")
        trigger_sign(ctx)
        own = ctx.cp.state.own_certificate
        since = sign_certificate(ctx, step=3)
        key = own.pending_key
        signed = ctx.await_call(
            "CertificateSigned",
            step=5,
            since=since,
            what="CertificateSigned.req with <Signed ChargePointCertificate>",
        )
        self._for_our_csr(ctx, signed, key)
        answer = signed.answer or {}
        ctx.expect_own("status", "Rejected", answer, step=6, message="CertificateSigned.conf")
        own.pending_key = own.pending_subject = None
        security_event(
            ctx,
            SecurityEvent.invalid_charge_point_certificate,
            "the ChargePointCertificate was rejected (OCTT TC_077)",
            step=7,
        )

    @staticmethod
    def _for_our_csr(ctx: Context, call: InboundCall, key: object) -> None:
        """<Signed ChargePointCertificate>: a PEM certificate whose public key is the CSR's."""
        chain = call.payload.get("certificateChain")
        ours = getattr(key, "public_key", None)
        ok = False
        if isinstance(chain, str) and ours is not None:
            try:
                leaf = x509.load_pem_x509_certificates(chain.encode("utf-8", "replace"))[0]
            except (ValueError, IndexError):
                leaf = None
            if leaf is not None:
                form = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
                ok = leaf.public_key().public_bytes(*form) == ours().public_bytes(*form)
        ctx.record(
            Check(
                "5",
                "CertificateSigned.req",
                "certificateChain",
                "<Signed ChargePointCertificate>: a certificate for the key of the Tool's CSR",
                certificate_text(chain) + ("" if ok else " (not for the key of the Tool's CSR)"),
                ok,
            )
        )
