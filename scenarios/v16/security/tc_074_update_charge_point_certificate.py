"""TC_074_CSMS: Update Charge Point Certificate by request of Central System (OCTT 1.6, section 3.21.1, Table 180)."""

from __future__ import annotations

import gevent

from ocpp_users.v16.security_events import SecurityEvent
from scenarios.base import Case, register
from scenarios.context import Context
from scenarios.options import RunOptions
from scenarios.v16.security._security import (
    charger_refusal,
    needs_client_certificate,
    sign_certificate,
    trigger_sign,
)


@register
class UpdateChargePointCertificate(Case):
    """ "To check if the Central System is able to request the Charge Point to renew its
    ChargePointCertificate."

    Applies with security profile 3 (a wss:// URL and ``--client-cert``; with profile 2 and a client
    certificate too, the Tool connects with the certificate for this case, see
    :meth:`~scenarios.context.Context.use_client_certificate`). The CSMS sends an
    ExtendedTriggerMessage.req for SignChargePointCertificate without connectorId; the charge
    point (its CpoName set, ``--cpo-name``) answers Accepted, makes a new key pair and sends its
    CSR (CN its id, O the CpoName); the SignCertificate.conf must be Accepted. The CSMS's
    certificate authority signs it and the CSMS sends CertificateSigned.req by itself (within
    ``--step-timeout``). The charge point's own checks decide its answer (whitepaper A02.FR.06: the
    key of the CSR, its CN, valid now, chaining to a CentralSystemRootCertificate of ``--ca-file``):
    a certificate a charger refuses FAILS step 5 with the charger's reason. Step 7: the Tool
    disconnects and connects with the new certificate (and its new key); the CSMS must accept that
    connection, a refused one FAILS step 7. The clean-up goes back to the run's certificate.
    """

    case_id = "TC_074_CSMS"
    title = "Update Charge Point Certificate by request of Central System"
    section = "3.21.1"
    table = 180
    profile = "Security"
    set_up = (
        "security profile 3: wss://, --client-cert/--client-key, --ca-file with the root of the CSMS's CA; --cpo-name"
    )
    cp_actions = ("SignCertificate",)
    csms_actions = ("ExtendedTriggerMessage",)
    steps = (
        "Prerequisite: The Central System supports security profile 3.",
        "1. The Central System sends a ExtendedTriggerMessage.req",
        "2. The Charge Point responds with a ExtendedTriggerMessage.conf",
        "3. [The Charge Point generates a new public/private key pair and generates a Certificate Signing "
        "Request.] The Charge Point sends a SignCertificate.req.",
        "4. The Central System responds with a SignCertificate.conf.",
        "5. [Certificate Authority Server signs the certificate.] The Central System sends a CertificateSigned.req.",
        "6. [The Charge Point verifies the validity of the signed certificate.] The Charge Point responds with a "
        "CertificateSigned.conf.",
        "7. The Charge Point disconnects its current connection and reconnects to the Central System with the "
        "new certificate.",
    )

    @classmethod
    def not_applicable(cls, options: RunOptions) -> str | None:
        return needs_client_certificate(options)

    def run(self, ctx: Context) -> None:
        ctx.use_client_certificate(step="Before")
        trigger_sign(ctx)
        link = ctx.cp.link
        before = link.security  # (the CertificateSigned.req may be answered before the SignCertificate.conf is read)
        since = sign_certificate(ctx, step=3)
        signed = ctx.await_call(
            "CertificateSigned",
            step=5,
            since=since,
            what="CertificateSigned.req with the certificate signed for the Tool's CSR",
        )
        charger_refusal(
            ctx,
            signed,
            "Accepted",
            step=5,
            field="certificateChain",
            wanted="<Signed ChargePointCertificate>: for the key of the Tool's CSR, its CN, valid now, chaining to "
            "a CentralSystemRootCertificate of the charge point (A02.FR.06)",
            event=SecurityEvent.invalid_charge_point_certificate,
        )
        # A02.FR.08: a certificate not valid yet is switched to at its notBefore.
        waited = 0.0
        while link.security is before and waited < ctx.step_timeout:
            gevent.sleep(0.05)
            waited += 0.05
        if link.security is before:
            ctx.fail(
                7,
                "WebSocket connection",
                "a reconnect with the new certificate",
                f"the charge point did not switch to it within {ctx.step_timeout:g} s (its notBefore is later)",
            )
        ctx.disconnect(clean=True)
        ctx.connect(step=7, expected="the CSMS accepts the connection with the new ChargePointCertificate (HTTP 101)")
