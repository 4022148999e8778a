"""TC_040_1_CSMS: Configuration keys (OCTT 1.6, section 3.13.1, Table 148)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context

UNKNOWN_KEY = "VolatileOcppUnknownKey"


@register
class UnknownConfigurationKey(Case):
    """ "To test if the Central System is able to handle a Charge Point that does not support a
    given configuration key." No key is prescribed; we request one no charger has, and the Tool
    answers NotSupported whatever key arrives."""

    case_id = "TC_040_1_CSMS"
    title = "Configuration keys"
    section = "3.13.1"
    table = 148
    csms_actions = ("ChangeConfiguration",)
    steps = (
        "1. The Central System sends a ChangeConfiguration.req",
        "2. The Charge Point responds with a ChangeConfiguration.conf",
    )

    def run(self, ctx: Context) -> None:
        call = ctx.csms_call("ChangeConfiguration", {"key": UNKNOWN_KEY, "value": "1"}, step=1, answer="NotSupported")
        ctx.expect_own("status", "NotSupported", call.answer, step=2, message="ChangeConfiguration.conf")
