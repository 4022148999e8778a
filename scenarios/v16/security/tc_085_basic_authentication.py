"""TC_085_CSMS: Basic Authentication - Valid username/password combination (OCTT 1.6, Table 189)."""

from __future__ import annotations

import secrets
from dataclasses import replace

from ocpp_users.ocppj.errors import AuthenticationFailed, TransportError
from ocpp_users.ocppj.transport import SecurityConfig, connect
from ocpp_users.v16.protocol import VERSION
from scenarios.base import Case, register
from scenarios.context import Context
from scenarios.options import RunOptions


@register
class BasicAuthentication(Case):
    """ "To verify whether the Central System is able to validate the (valid) Basic authentication
    credentials provided by the Charge Point at the connection request."

    Applies when the run uses security profile 1 or 2 (``--security-profile`` with
    ``--basic-auth-password``). The document lists no tool validations ("N/a"); the case fails
    when the CSMS refuses the upgrade, answers the BootNotification with anything but Accepted
    (the Booted state's check, the digest's reading of "validate the credentials"), or does not
    answer the StatusNotifications with a valid conf.

    Before step 1, while the Tool is disconnected, it also tries a connection with a wrong
    password and one without credentials. The document does not ask for this (the case is the
    *valid* combination; the security whitepaper requires a CSMS to reject wrong credentials), so
    the outcome is a note, never a verdict: "refused (HTTP 401)" or a warning that the CSMS let
    the charge point in. An accepted connection is closed at once.

    The case sits under 3.21.3 in the document (after TC_081) although it belongs to "Secure
    connection setup".
    """

    case_id = "TC_085_CSMS"
    title = "Basic Authentication - Valid username/password combination"
    section = "3.21.3"
    table = 189
    profile = "Security"
    cp_actions = ("BootNotification", "StatusNotification")
    steps = (
        "Before: Reusable State(s): The OCTT closes the connection.",
        "1. The Charge Point sends a HTTP upgrade request to the Central System",
        "2. The Central System upgrades the connection to a WebSocket connection.",
        "3. The Charge Point sends a BootNotification.req",
        "4. The Central System responds with a BootNotification.conf",
        "5. [Send per connector and connectorId=0.] The Charge Point sends a StatusNotification.req",
        "6. The Central System responds with a StatusNotification.conf",
    )

    @classmethod
    def not_applicable(cls, options: RunOptions) -> str | None:
        if options.security.profile not in (1, 2) or not options.security.password:
            return "needs Basic authentication: --security-profile 1 or 2 with --basic-auth-password"
        return None

    def run(self, ctx: Context) -> None:
        ctx.disconnect(clean=True)
        security = ctx.options.security
        password = security.password or ""
        wrong = "VOCPP-WRONG-" + secrets.token_hex(8)
        while wrong == password:  # (practically never)
            wrong = "VOCPP-WRONG-" + secrets.token_hex(8)
        self._refused(ctx, "a wrong password", replace(security, password=wrong))
        self._refused(ctx, "no credentials", replace(security, password=None))
        ctx.connect(step=2)
        if len(password) < 16:
            ctx.note("the configured AuthorizationKey is shorter than the 16 characters OCPP requires")
        boot = ctx.boot(step=3)
        ctx.expect("status", "Accepted", boot.response, step=4, message="BootNotification.conf")
        ctx.statuses(step=5)

    @staticmethod
    def _refused(ctx: Context, what: str, security: SecurityConfig) -> None:
        """Note (not a verdict) whether the CSMS refuses a connection with ``what``."""
        try:
            ws = connect(
                ctx.cp.url,
                ctx.cp.cp_id,
                security,
                subprotocol=VERSION.subprotocol,
                timeout=ctx.options.connect_timeout,
            )
        except AuthenticationFailed as exc:
            ctx.note(f"extra check (not in the document): a connection with {what} was refused: {exc.reason}")
            return
        except TransportError as exc:
            ctx.note(
                f"extra check (not in the document): a connection with {what} was refused, though not with "
                f"HTTP 401: {exc.reason}"
            )
            return
        try:
            ws.close(timeout=1)
        except Exception:
            pass
        ctx.note(
            f"WARNING (not a verdict: the document asks only for the valid combination): the CSMS accepted "
            f"a connection with {what}; the security whitepaper requires it to refuse one (HTTP 401)"
        )
