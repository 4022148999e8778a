"""session.wrong_password: HTTP Basic auth with the right user and a wrong password."""

from __future__ import annotations

from dataclasses import replace

from scenarios.robustness.base import RobustCase, register
from scenarios.robustness.context import RobustContext
from scenarios.robustness.options import RobustOptions
from scenarios.robustness.outcome import Outcome
from scenarios.robustness.shapes import CREDENTIALS_NON_STRICT, CREDENTIALS_PASSED, credentials_outcome

REQUIREMENT = (
    "A00.FR.202 The Charge Point SHALL authenticate itself to the Central System using HTTP Basic authentication. "
    "A00.FR.204 The username SHALL be equal to the Charge Point identity ... (a wrong credential must not open a "
    "session: HTTP/401 Authorization Required, as the whitepaper's sequence diagram shows).)"
)


@register
class WrongPassword(RobustCase):
    case_id = "session.wrong_password"
    title = "Basic auth with a wrong password"
    clause = "OCPP 1.6 security whitepaper §2.3 (A00.FR.202-205), security profiles 1 and 2"
    requirement = REQUIREMENT
    sends = "a WebSocket upgrade as --cp-id with Basic auth user --cp-id and a wrong password (then a BootNotification)"
    passed = CREDENTIALS_PASSED
    non_strict = CREDENTIALS_NON_STRICT
    connect = False
    order = 7

    @classmethod
    def not_applicable(cls, options: RobustOptions) -> str | None:
        return None if options.has_password else "the CSMS is tested without Basic auth (security profile 1 or 2)"

    def run(self, ctx: RobustContext) -> Outcome:
        password = ctx.options.security.password or ""
        text = password.decode("latin-1") if isinstance(password, bytes) else password
        wrong = replace(ctx.options.security, password=text[::-1] + "-wrong")
        return credentials_outcome(ctx, wrong)
