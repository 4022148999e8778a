"""TC_076_CSMS: Delete a specific certificate from the Charge Point (OCTT 1.6, section 3.21.1, Table 183)."""

from __future__ import annotations

from cryptography import x509

from ocpp_users.v16.state.certificates import issued_by, parse_pem
from scenarios.base import Case, register
from scenarios.context import Context
from scenarios.results import Check, NotApplicable, show
from scenarios.v16.security._security import charger_refusal, configured_root, install_root, list_installed

KIND = "CentralSystemRootCertificate"


def _same_hex(a: object, b: str) -> bool:
    return isinstance(a, str) and a.strip().lower() == b.lower()


def _same_serial(a: object, b: str) -> bool:
    try:
        return isinstance(a, str) and int(a, 16) == int(b, 16)
    except ValueError:
        return False


@register
class DeleteCertificate(Case):
    """ "To check if the Central System is able to delete an installed certificate from the Charge
    Point."

    Memory state: the CSMS installs a CentralSystemRootCertificate ("Root 2": <Configured root
    certificate>, ``--root-certificate``, a fresh root by default; it must not be the root of the
    CSMS's own TLS certificate, which a charger refuses to delete, M04.FR.06). Then the CSMS asks
    for the installed CentralSystemRootCertificates (the charge point answers Accepted, hash data
    in SHA256, its <Configured HashAlgorithm>) and sends DeleteCertificate.req for Root 2: its
    hashAlgorithm must be the one of that answer, and each field of its certificateHashData must
    match the Tool's own calculation (issuerNameHash and issuerKeyHash compared as hexadecimal
    whatever the case, serialNumber as a number). The charge point's store answers (Accepted when
    it finds the certificate).
    """

    case_id = "TC_076_CSMS"
    title = "Delete a specific certificate from the Charge Point"
    section = "3.21.1"
    table = 183
    profile = "Security"
    set_up = "--root-certificate (not the root of the CSMS's own TLS certificate)"
    csms_actions = ("InstallCertificate", "GetInstalledCertificateIds", "DeleteCertificate")
    steps = (
        "Before: Memory State(s): Request Central System to install a CentralSystemRootCertificate (Root 2)",
        "The OCTT requests the Central System to delete the just installed CentralSystemRootCertificate",
        "1. The Central System sends a GetInstalledCertificateIds.req",
        "2. The Charge Point responds with a GetInstalledCertificateIds.conf",
        "3. The Central System sends a DeleteCertificate.req",
        "4. The Charge Point responds with a DeleteCertificate.conf",
    )

    def run(self, ctx: Context) -> None:
        root = configured_root(ctx)
        certificate = parse_pem(root)[0]
        self._not_in_use(ctx, certificate)
        install_root(ctx, KIND, root, step="Before")
        listed = list_installed(ctx, KIND, root, step=1)
        algorithm = listed["hashAlgorithm"]
        ctx.expect_own("hashAlgorithm", "SHA256", listed, step=2, message="GetInstalledCertificateIds.conf")
        call = ctx.csms_call("DeleteCertificate", {"certificateHashData": listed}, step=3)
        message = "DeleteCertificate.req"
        sent = call.payload.get("certificateHashData")
        sent = sent if isinstance(sent, dict) else {}
        ctx.expect("certificateHashData.hashAlgorithm", algorithm, call.payload, step=3, message=message)
        for field, same in (
            ("issuerNameHash", _same_hex),
            ("issuerKeyHash", _same_hex),
            ("serialNumber", _same_serial),
        ):
            value = sent.get(field)
            ok = same(value, listed[field])
            ctx.record(Check("3", message, f"certificateHashData.{field}", listed[field], show(value), ok))
        charger_refusal(
            ctx,
            call,
            "Accepted",
            step=3,
            field="certificateHashData.serialNumber",
            wanted="the certificateHashData of the CentralSystemRootCertificate installed before (Root 2)",
        )

    @staticmethod
    def _not_in_use(ctx: Context, certificate: x509.Certificate) -> None:
        der = ctx.cp.link.peer_certificate
        if der is None:
            return
        peer = x509.load_der_x509_certificate(der)
        if peer == certificate or issued_by(peer, certificate):
            raise NotApplicable(
                "--root-certificate is the root of the CSMS's own TLS certificate: the charge point refuses to "
                "delete the root in use (M04.FR.06); give another root"
            )
