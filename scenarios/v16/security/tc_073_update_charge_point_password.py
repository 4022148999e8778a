"""TC_073_CSMS: Update Charge Point Password for HTTP Basic Authentication (OCTT 1.6, section 3.21.1, Table 179)."""

from __future__ import annotations

from dataclasses import replace

from ocpp_users.ocppj.errors import TransportError
from ocpp_users.ocppj.transport import connect
from ocpp_users.v16.protocol import VERSION
from scenarios.base import Case, register
from scenarios.context import Context
from scenarios.options import RunOptions
from scenarios.results import Check
from scenarios.v16.security._security import needs_basic_auth, new_authorization_key


@register
class UpdateChargePointPassword(Case):
    """ "To check if the Central System is able to change the Basic Authentication password."

    Applies with Basic authentication (security profile 1 or 2). The Tool asks the CSMS to send
    ChangeConfiguration.req for AuthorizationKey with a new key (``--authorization-key``,
    hexadecimal; a random one of 20 characters by default). Step 1: the key is AuthorizationKey
    (a configuration key: compared case-insensitively); the charge point's own handler answers
    (Accepted for 16 to 20 bytes in hexadecimal, whitepaper A00.FR.205), so a value a charger
    refuses FAILS step 1. Step 3: the Tool disconnects and connects with the new password; the
    CSMS must upgrade that connection. Whitepaper A01.FR.03 also asks the CSMS to "no longer
    accept the credentials previously used": while disconnected, the Tool tries the old password
    once, and a CSMS that lets it in FAILS step 3 (the Tool goes on with the new one).

    The key never shows in a report or wire log (the engine masks it: A01.FR.12). The CSMS expects
    the new key from then on, so the Tool keeps using it for the rest of the run (give your own
    ``--authorization-key`` to know the charge point's password afterwards).
    """

    case_id = "TC_073_CSMS"
    title = "Update Charge Point Password for HTTP Basic Authentication"
    section = "3.21.1"
    table = 179
    profile = "Security"
    set_up = "Basic auth (--security-profile 1 or 2, --basic-auth-password); --authorization-key"
    csms_actions = ("ChangeConfiguration",)
    steps = (
        "Prerequisite: The Central System supports Security profile 1 and/or 2.",
        "Manual Action: Change the basic authentication password.",
        "1. The Central System sends a ChangeConfiguration.req",
        "2. The Charge Point responds with a ChangeConfiguration.conf",
        "3. The Charge Point disconnects its current connection and reconnects to the Central System with the "
        "new password.",
    )

    @classmethod
    def not_applicable(cls, options: RunOptions) -> str | None:
        return needs_basic_auth(options)

    def run(self, ctx: Context) -> None:
        link = ctx.cp.link
        old = link.security
        key = ctx.options.test_data.authorization_key or new_authorization_key()
        call = ctx.csms_call("ChangeConfiguration", {"key": "AuthorizationKey", "value": key}, step=1)
        ctx.expect_ci("key", "AuthorizationKey", call.payload, step=1, message="ChangeConfiguration.req")
        ctx.charger_answer(
            call,
            "Accepted",
            step=1,
            field="key",
            wanted="an AuthorizationKey the charge point can use: 16 to 20 bytes in hexadecimal (A00.FR.205)",
        )
        ctx.disconnect(clean=True)
        if link.security.password != old.password:
            self._old_refused(ctx, old.password)
        ctx.connect(step=3, expected="the CSMS accepts the connection with the new password (HTTP 101)")

    @staticmethod
    def _old_refused(ctx: Context, password: str | bytes | None) -> None:
        """A01.FR.03: a connection with the previous password is refused (a check at step 3 that
        lets the case go on)."""
        expected = "the previous password refused (A01.FR.03: HTTP 401)"
        try:
            ws = connect(
                ctx.cp.url,
                ctx.cp.cp_id,
                replace(ctx.cp.link.security, password=password),
                subprotocol=VERSION.subprotocol,
                timeout=ctx.options.connect_timeout,
            )
        except TransportError as exc:
            ctx.record(Check("3", "WebSocket connection", "Authorization", expected, f"refused: {exc.reason}", True))
            return
        try:
            ws.close(timeout=1)
        except Exception:
            pass
        ctx.record(
            Check(
                "3", "WebSocket connection", "Authorization", expected, "upgraded (HTTP 101): the CSMS let it in", False
            ),
            soft=True,
        )
