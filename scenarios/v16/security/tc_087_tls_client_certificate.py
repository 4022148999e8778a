"""TC_087_CSMS: TLS - Client-side certificate - valid certificate (OCTT 1.6, section 3.21.3, Table 191)."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

from ocpp_users.ocppj.errors import TransportError
from ocpp_users.ocppj.transport import SecurityConfig, connect
from ocpp_users.v16.protocol import VERSION
from scenarios import pki, tlscheck
from scenarios.base import Case, register
from scenarios.context import Context
from scenarios.options import RunOptions
from scenarios.results import Check
from scenarios.v16.security._security import needs_client_certificate


@register
class TlsClientCertificate(Case):
    """ "To verify whether the Central System is able to receive a client certificate provided by a
    Charge Point and setup a secured WebSocket connection."

    Applies with security profile 3 (a wss:// URL and ``--client-cert``; with profile 2 and a client
    certificate too, the Tool connects with the certificate for this case). Step 3's validations,
    each recorded (the document lets the Tool go on after one fails, the case still FAILS): TLS 1.2
    or above in a handshake that presents the client certificate, and each of the four cipher
    suites, offered alone with the client certificate. A00.FR.403/407 ("The Central System SHALL
    verify the certification path of the Charge Point's certificate", else terminate the
    connection): a connection with a self-signed client certificate no CA vouches for must be
    refused (a check at step 6 that lets the case go on). Then the connection with the client
    certificate (no Basic auth: profile 3), BootNotification (Accepted) and StatusNotifications.
    """

    case_id = "TC_087_CSMS"
    title = "TLS - Client-side certificate - valid certificate"
    section = "3.21.3"
    table = 191
    profile = "Security"
    set_up = "security profile 3: wss://, --client-cert/--client-key"
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
        return needs_client_certificate(options, signed_by_csms=False)

    def run(self, ctx: Context) -> None:
        ctx.disconnect(clean=True)
        url = urlsplit(ctx.cp.url)
        host, port = url.hostname or "", url.port or 443
        security = replace(ctx.cp.link.security, profile=3)
        timeout = ctx.options.connect_timeout
        main = tlscheck.handshake(host, port, tlscheck.main_context(security), timeout)
        if not main.ok:
            ctx.fail(3, "TLS handshake", "a TLS handshake with the client certificate", main.error)
        ctx.record(
            Check(
                "3",
                "TLS handshake",
                "version",
                "TLSv1.2 or above",
                str(main.version),
                tlscheck.version_ok(main.version),
            ),
            soft=True,
        )
        for iana, openssl_name in tlscheck.REQUIRED_SUITES.items():
            one = tlscheck.handshake(host, port, tlscheck.suite_context(openssl_name, security), timeout)
            ctx.record(
                Check(
                    "3",
                    "TLS handshake",
                    "cipher suite",
                    f"{iana} supported",
                    "supported" if one.ok else f"not supported ({one.error})",
                    one.ok,
                ),
                soft=True,
            )
        self._untrusted_refused(ctx, security)
        ctx.cp.link.use(security)
        ctx.connect(step=6, expected="the CSMS upgrades the connection made with the client certificate (HTTP 101)")
        boot = ctx.boot(step=7)
        ctx.expect("status", "Accepted", boot.response, step=8, message="BootNotification.conf")
        ctx.statuses(step=9)

    @staticmethod
    def _untrusted_refused(ctx: Context, security: SecurityConfig) -> None:
        expected = "a self-signed client certificate refused (A00.FR.403/407)"
        with tempfile.TemporaryDirectory(prefix="vocpp-tc087-") as folder:
            cert, key = pki.untrusted_client(Path(folder), ctx.cp.cp_id)
            untrusted = replace(security, client_cert=cert, client_key=key, identity=None)
            try:
                ws = connect(
                    ctx.cp.url,
                    ctx.cp.cp_id,
                    untrusted,
                    subprotocol=VERSION.subprotocol,
                    timeout=ctx.options.connect_timeout,
                )
            except TransportError as exc:
                ctx.record(
                    Check("6", "WebSocket connection", "client certificate", expected, f"refused: {exc.reason}", True)
                )
                return
        try:
            ws.close(timeout=1)
        except Exception:
            pass
        ctx.record(
            Check(
                "6",
                "WebSocket connection",
                "client certificate",
                expected,
                "upgraded (HTTP 101): the CSMS let it in",
                False,
            ),
            soft=True,
        )
