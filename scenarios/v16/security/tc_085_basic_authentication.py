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
from scenarios.results import Check


@register
class BasicAuthentication(Case):
    """ "To verify whether the Central System is able to validate the (valid) Basic authentication
    credentials provided by the Charge Point at the connection request."

    Applies when the run uses security profile 1 or 2 (``--security-profile`` with
    ``--basic-auth-password``). The document lists no tool validations ("N/a"); the case fails
    when the CSMS refuses the upgrade, answers the BootNotification with anything but Accepted
    (the Booted state's check, the digest's reading of "validate the credentials"), or does not
    answer the StatusNotifications with a valid conf.

    "Validate the credentials" also means telling a wrong password from the right one: before
    step 1, while the Tool is disconnected, it tries a connection with a wrong password and one
    without credentials (security whitepaper A00.FR.202/203, A00.FR.301/302: the charge point
    SHALL provide them with every connection request; its figure shows HTTP 401 for a request
    without). A CSMS that upgrades either connection FAILS the case at step 2 (the Tool goes on
    with the valid combination, as TC_086 does after a failed validation); an accepted
    connection is closed at once. A refusal other than HTTP 401 passes with a note.

    The case sits under 3.21.3 in the document (after TC_081) although it belongs to "Secure
    connection setup".
    """

    case_id = "TC_085_CSMS"
    title = "Basic Authentication - Valid username/password combination"
    section = "3.21.3"
    table = 189
    profile = "Security"
    set_up = "Basic auth (--security-profile 1 or 2, --basic-auth-password)"
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
        none = replace(security, profile=0, password=None, client_cert=None, client_key=None, identity=None)
        self._refused(ctx, "no credentials", none)
        ctx.connect(step=2)
        if len(password) < 16:
            ctx.note("the configured AuthorizationKey is shorter than the 16 characters OCPP requires")
        boot = ctx.boot(step=3)
        ctx.expect("status", "Accepted", boot.response, step=4, message="BootNotification.conf")
        ctx.statuses(step=5)

    @staticmethod
    def _refused(ctx: Context, what: str, security: SecurityConfig) -> None:
        """A connection with ``what`` must be refused (a soft check at step 2: the case goes on)."""
        expected = f"the upgrade refused with {what} (HTTP 401)"
        try:
            ws = connect(
                ctx.cp.url,
                ctx.cp.cp_id,
                security,
                subprotocol=VERSION.subprotocol,
                timeout=ctx.options.connect_timeout,
            )
        except AuthenticationFailed as exc:
            ctx.record(Check("2", "WebSocket connection", "Authorization", expected, f"refused: {exc.reason}", True))
            return
        except TransportError as exc:
            ctx.record(Check("2", "WebSocket connection", "Authorization", expected, f"refused: {exc.reason}", True))
            ctx.note(f"step 2: a connection with {what} was refused, though not with HTTP 401: {exc.reason}")
            return
        try:
            ws.close(timeout=1)
        except Exception:
            pass
        ctx.record(
            Check(
                "2", "WebSocket connection", "Authorization", expected, "upgraded (HTTP 101): the CSMS let it in", False
            ),
            soft=True,
        )
