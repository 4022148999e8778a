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
    on after one fails, the case still FAILS): TLS 1.2 or above (the normal handshake negotiates
    1.2 or 1.3, and a handshake offering only TLS 1.0, or only TLS 1.1, is refused; when the local
    OpenSSL cannot offer those versions that is a note, not a failure); each of the four cipher suites
    (joined by AND in the document, as in the security whitepaper: a CSMS needs an ECDSA and an
    RSA certificate), each offered alone in its own TLS 1.2 handshake; the key size (RSA/DSA
    >= 2048 bits, EC >= 224 bits); an X.509 certificate (PEM cannot be seen on the wire: TLS sends
    DER, so "parseable X.509" is checked); a serial number; a subject commonName equal to the
    host name of the URL. Then the upgrade, BootNotification and StatusNotifications.
    """

    case_id = "TC_086_CSMS"
    title = "TLS - server-side certificate - Valid certificate"
    section = "3.21.3"
    table = 190
    profile = "Security"
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
        self._certificate(ctx, main.der or b"", host)
        ctx.connect(step=6)
        ctx.boot(step=7)
        ctx.statuses(step=9)

    @staticmethod
    def _legacy_versions(ctx: Context, host: str, port: int, timeout: float) -> None:
        """A handshake offering only TLS 1.0, then only TLS 1.1: the CSMS must refuse both."""
        for name, version in tlscheck.LEGACY_VERSIONS.items():
            context = tlscheck.legacy_context(version, ctx.options.security)
            if context is None:
                ctx.note(f"step 2: this OpenSSL cannot offer {name} alone; not checked that the CSMS refuses it")
                continue
            old = tlscheck.handshake(host, port, context, timeout)
            if not old.ok and tlscheck.local_limit(old):
                ctx.note(f"step 2: could not check that the CSMS refuses {name} ({old.error})")
                continue
            actual = f"refused ({old.error})" if not old.ok else f"accepted: {old.version} with {old.cipher}"
            ctx.record(
                Check("2", "TLS handshake", "version", f"a {name}-only handshake refused", actual, not old.ok),
                soft=True,
            )

    @staticmethod
    def _certificate(ctx: Context, der: bytes, host: str) -> None:
        try:
            info = parse_certificate(der)
        except (DerError, IndexError, ValueError) as exc:
            ctx.record(
                Check("2", "server certificate", "format", "an X.509 certificate", f"unreadable: {exc}", False),
                soft=True,
            )
            return
        ctx.record(Check("2", "server certificate", "format", "an X.509 certificate", "X.509", True), soft=True)
        minimum = 224 if info.key_type == "EC" else 2048
        ctx.record(
            Check(
                "2",
                "server certificate",
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
                "server certificate",
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
                "server certificate",
                "subject commonName",
                f"{host} (the FQDN of the endpoint)",
                names,
                any(cn.lower() == host.lower() for cn in info.common_names),
            ),
            soft=True,
        )
