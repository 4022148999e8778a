"""TC_075_2_CSMS: Install a certificate on the Charge Point - CentralSystemRootCertificate
(OCTT 1.6, section 3.21.1, Table 182)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context
from scenarios.options import RunOptions
from scenarios.v16.security._security import configured_root, install_root, list_installed, needs_tls


@register
class InstallCentralSystemRootCertificate(Case):
    """ "To check if the Central System is able to install a certificate on the Charge Point."

    Applies over TLS (security profile 2 or 3). The CSMS installs <Configured root certificate>
    (``--root-certificate``, a root CA certificate, as the document's note asks; a fresh one made
    by the Tool by default) as CentralSystemRootCertificate: step 1 checks the type and that the
    certificate is the configured one; the charge point's own store answers (a valid CA:
    Accepted). Then the CSMS asks for the installed CentralSystemRootCertificates; the charge point
    answers Accepted with the certificate's hash data among them (its own calculation: SHA256).
    The charger trusts the new root for its next TLS connections beside the ``--ca-file`` ones;
    the clean-up goes back to the run's trust.
    """

    case_id = "TC_075_2_CSMS"
    title = "Install a certificate on the Charge Point - CentralSystemRootCertificate"
    section = "3.21.1"
    table = 182
    profile = "Security"
    set_up = "wss:// (security profile 2 or 3); --root-certificate"
    csms_actions = ("InstallCertificate", "GetInstalledCertificateIds")
    steps = (
        "Prerequisite: The Central System supports Security profile 2 and/or 3.",
        "1. The Central System sends a InstallCertificate.req",
        "2. The Charge Point responds with a InstallCertificate.conf",
        "3. The Central System sends a GetInstalledCertificateIds.req",
        "4. The Charge Point responds with a GetInstalledCertificateIds.conf",
    )

    @classmethod
    def not_applicable(cls, options: RunOptions) -> str | None:
        return needs_tls(options)

    def run(self, ctx: Context) -> None:
        root = configured_root(ctx)
        install_root(ctx, "CentralSystemRootCertificate", root, step=1)
        list_installed(ctx, "CentralSystemRootCertificate", root, step=3)
