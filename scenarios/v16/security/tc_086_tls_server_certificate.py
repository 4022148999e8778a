"""TC_086_CSMS: TLS - server-side certificate - Valid certificate (OCTT 1.6, Table 190)."""

from __future__ import annotations

from urllib.parse import urlsplit

from scenarios import tlscheck
from scenarios.base import Case, register
from scenarios.context import Context
from scenarios.options import RunOptions
from scenarios.results import Check
from scenarios.x509 import DerError, parse_certificate


@register
class TlsServerCertificate(Case):
    """ "To verify whether the Central System is able to provide a valid server certificate and
    setup a secured WebSocket connection."

    Applies to a wss:// URL. Step 2's validations, each recorded (the document lets the Tool go
    on after one fails, the case still FAILS): TLS 1.2 or above in the handshake the Tool offers
    (1.2 and 1.3); each of the four cipher suites (joined by AND in the document, as in the
    security whitepaper: a CSMS needs an ECDSA and an RSA certificate), each offered alone in its
    own TLS 1.2 handshake; and for *every* certificate the CSMS serves (the default handshake's
    and each suite's: one per key type) the key size (RSA/DSA >= 2048 bits, EC >= 224 bits), an
    X.509 certificate (PEM cannot be seen on the wire: TLS sends DER, so "parseable X.509" is
    checked), a serial number, a subject commonName equal to the host name of the URL, and that
    the charge point can trust it (it verifies against the CA and the host name, as the default
    one must). Then the upgrade, BootNotification and StatusNotifications.

    The Tool also tries a TLS 1.0-only and a TLS 1.1-only handshake. Accepting them is a note, not
    a failure: the document's check is on the version the CSMS uses with a Tool offering 1.2, and
    the whitepaper (A00.FR.312) lets TLS 1.0/1.1 be used by charge points that cannot do 1.2.
    """

    case_id = "TC_086_CSMS"
    title = "TLS - server-side certificate - Valid certificate"
    section = "3.21.3"
    table = 190
    profile = "Security"
    set_up = "wss:// (security profile 2 or 3); --ca-file to trust the CSMS"
    cp_actions = ("BootNotification", "StatusNotification")
    steps = (
        "Before: Reusable State(s): The OCTT closes the connection.",
        "1. The Charge Point initiates a TLS handshake and sends a Client Hello to the Central System.",
        "2. The Central System responds with a Server Hello With the <Configured server certificate>",
        "3. The Charge Point performs the following actions: Send client certificate / Client Key Exchange / "
        "Certificate verify / Change Cipher Spec / Finished",
        "4. The Central System performs the following actions: Change Cipher Spec / Finished",
        "5. The Charge Point sends a HTTP upgrade request to the Central System",
        "6. The Central System upgrades the connection to a (secured) WebSocket connection.",
        "7. The Charge Point sends a BootNotification.req",
        "8. The Central System responds with a BootNotification.conf",
        "9. [Send per connector and connectorId=0.] The Charge Point sends a StatusNotification.req",
        "10. The Central System responds with a StatusNotification.conf",
    )

    @classmethod
    def not_applicable(cls, options: RunOptions) -> str | None:
        if urlsplit(options.url).scheme != "wss":
            return "needs a wss:// URL (security profile 2 or 3)"
        return None

    def run(self, ctx: Context) -> None:
        ctx.disconnect(clean=True)
        url = urlsplit(ctx.cp.url)
        host, port = url.hostname or "", url.port or 443
        security = ctx.options.security
        timeout = ctx.options.connect_timeout
        main = tlscheck.handshake(host, port, tlscheck.main_context(security), timeout)
        if not main.ok:
            ctx.fail(2, "Server Hello", "a TLS handshake with a valid server certificate", main.error)
        ctx.record(
            Check(
                "2",
                "TLS handshake",
                "version",
                "TLSv1.2 or above",
                str(main.version),
                tlscheck.version_ok(main.version),
            ),
            soft=True,
        )
        self._legacy_versions(ctx, host, port, timeout)
        served: dict[bytes, list[str]] = {}
        if main.der:
            served.setdefault(main.der, []).append(f"the default handshake ({main.version}, {main.cipher})")
        for iana, openssl_name in tlscheck.REQUIRED_SUITES.items():
            one = tlscheck.handshake(host, port, tlscheck.suite_context(openssl_name, security), timeout)
            ctx.record(
                Check(
                    "2",
                    "TLS handshake",
                    "cipher suite",
                    f"{iana} supported",
                    "supported" if one.ok else f"not supported ({one.error})",
                    one.ok,
                ),
                soft=True,
            )
            if one.ok and one.der:
                if one.der not in served:
                    self._trusted(ctx, host, port, timeout, openssl_name, iana)
                served.setdefault(one.der, []).append(iana)
        for der, uses in served.items():
            self._certificate(ctx, der, host, ", ".join(uses))
        ctx.connect(step=6)
        ctx.boot(step=7)
        ctx.statuses(step=9)

    @staticmethod
    def _trusted(ctx: Context, host: str, port: int, timeout: float, openssl_name: str, iana: str) -> None:
        """A certificate other than the default one must pass the charge point's verification too
        (A00.FR.307/308): a handshake with only this suite, verifying the chain and the name."""
        if not ctx.options.security.verify:
            return
        checked = tlscheck.handshake(
            host, port, tlscheck.suite_context(openssl_name, ctx.options.security, verify=True), timeout
        )
        ctx.record(
            Check(
                "2",
                f"server certificate ({iana})",
                "trust",
                "verifies (CA and host name), as the default one does",
                "verified" if checked.ok else checked.error,
                checked.ok,
            ),
            soft=True,
        )

    @staticmethod
    def _legacy_versions(ctx: Context, host: str, port: int, timeout: float) -> None:
        """A handshake offering only TLS 1.0, then only TLS 1.1: noted, never a verdict."""
        for name, version in tlscheck.LEGACY_VERSIONS.items():
            context = tlscheck.legacy_context(version, ctx.options.security)
            if context is None:
                ctx.note(f"step 2: this OpenSSL cannot offer {name} alone; not checked that the CSMS refuses it")
                continue
            old = tlscheck.handshake(host, port, context, timeout)
            if not old.ok and tlscheck.local_limit(old):
                ctx.note(f"step 2: could not check that the CSMS refuses {name} ({old.error})")
                continue
            if old.ok:
                ctx.note(
                    f"step 2: the CSMS accepts a {name}-only handshake ({old.cipher}); not a verdict: the document "
                    "checks the version used with a Tool offering TLS 1.2, and the whitepaper (A00.FR.312) lets "
                    "charge points that cannot do 1.2 use TLS 1.0/1.1"
                )
            else:
                ctx.note(f"step 2: the CSMS refuses a {name}-only handshake ({old.error})")

    @staticmethod
    def _certificate(ctx: Context, der: bytes, host: str, uses: str) -> None:
        """The document's checks on one certificate the CSMS serves (``uses``: with which handshakes)."""
        try:
            info = parse_certificate(der)
        except (DerError, IndexError, ValueError) as exc:
            ctx.record(
                Check(
                    "2", f"server certificate ({uses})", "format", "an X.509 certificate", f"unreadable: {exc}", False
                ),
                soft=True,
            )
            return
        message = f"server certificate ({info.key_type}: {uses})"
        ctx.record(Check("2", message, "format", "an X.509 certificate", "X.509", True), soft=True)
        minimum = 224 if info.key_type == "EC" else 2048
        ctx.record(
            Check(
                "2",
                message,
                "key size",
                f">= {minimum} bits ({info.key_type})",
                f"{info.key_bits} bits",
                info.key_bits >= minimum,
            ),
            soft=True,
        )
        ctx.record(
            Check(
                "2",
                message,
                "serialNumber",
                "present",
                str(info.serial) if info.serial is not None else "<missing>",
                info.serial is not None and info.serial > 0,
            ),
            soft=True,
        )
        names = ", ".join(info.common_names) or "<none>"
        ctx.record(
            Check(
                "2",
                message,
                "subject commonName",
                f"{host} (the FQDN of the endpoint)",
                names,
                any(cn.lower() == host.lower() for cn in info.common_names),
            ),
            soft=True,
        )
