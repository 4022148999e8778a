"""session.missing_credentials: no Authorization header where the CSMS requires Basic auth."""

from __future__ import annotations

from dataclasses import replace

from scenarios.robustness.base import RobustCase, register
from scenarios.robustness.context import RobustContext
from scenarios.robustness.options import RobustOptions
from scenarios.robustness.outcome import Outcome
from scenarios.robustness.shapes import CREDENTIALS_NON_STRICT, CREDENTIALS_PASSED, credentials_outcome


@register
class MissingCredentials(RobustCase):
    case_id = "session.missing_credentials"
    title = "No Basic auth credentials at all"
    clause = "OCPP 1.6 security whitepaper §2.3 (A00.FR.203)"
    requirement = (
        "A00.FR.203 The client, i.e. the Charge Point, SHALL provide a username and password with every connection "
        "request."
    )
    sends = "a WebSocket upgrade as --cp-id without an Authorization header (then a BootNotification)"
    passed = CREDENTIALS_PASSED
    non_strict = CREDENTIALS_NON_STRICT
    connect = False
    order = 8

    @classmethod
    def not_applicable(cls, options: RobustOptions) -> str | None:
        return None if options.has_password else "the CSMS is tested without Basic auth (security profile 1 or 2)"

    def run(self, ctx: RobustContext) -> Outcome:
        return credentials_outcome(ctx, replace(ctx.options.security, profile=0, password=None))
