"""session.wrong_user: Basic auth with the right password under another charge point's name."""

from __future__ import annotations

from dataclasses import replace

from ocpp_users.ocppj.transport import basic_auth_header
from scenarios.robustness.base import RobustCase, register
from scenarios.robustness.context import RobustContext
from scenarios.robustness.options import RobustOptions
from scenarios.robustness.outcome import Outcome
from scenarios.robustness.shapes import CREDENTIALS_NON_STRICT, CREDENTIALS_PASSED, credentials_outcome


@register
class WrongUser(RobustCase):
    case_id = "session.wrong_user"
    title = "Basic auth with another charge point's name"
    clause = "OCPP 1.6 security whitepaper §2.3 (A00.FR.204)"
    requirement = (
        "A00.FR.204 The username SHALL be equal to the Charge Point identity, which is the identifying string of the "
        "Charge Point as it uses it in the OCPP-J connection URL."
    )
    sends = "a WebSocket upgrade as --cp-id with Basic auth user <--cp-id>-OTHER and the right password"
    passed = CREDENTIALS_PASSED
    non_strict = CREDENTIALS_NON_STRICT
    connect = False
    order = 9

    @classmethod
    def not_applicable(cls, options: RobustOptions) -> str | None:
        return None if options.has_password else "the CSMS is tested without Basic auth (security profile 1 or 2)"

    def run(self, ctx: RobustContext) -> Outcome:
        password = ctx.options.security.password or ""
        header = basic_auth_header(ctx.options.cp_id + "-OTHER", password)
        return credentials_outcome(ctx, replace(ctx.options.security, profile=0, password=None), [header])
