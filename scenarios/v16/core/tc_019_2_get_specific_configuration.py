"""TC_019_2_CSMS: Retrieve specific configuration key (OCTT 1.6, section 3.7.2, Table 134)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context


@register
class GetSpecificConfiguration(Case):
    """ "To check whether the Central System is able to retrieve a specific Configuration key."
    The request must name exactly SupportedFeatureProfiles; configuration keys are CiString50 in
    OCPP 1.6, so the key is compared case-insensitively (and reported as sent)."""

    case_id = "TC_019_2_CSMS"
    title = "Retrieve specific configuration key"
    section = "3.7.2"
    table = 134
    csms_actions = ("GetConfiguration",)
    steps = (
        "1. The Central Systems sends a GetConfiguration.req message to the Charge Point.",
        "2. The Charge Point responds with a GetConfiguration.conf.",
    )

    def run(self, ctx: Context) -> None:
        call = ctx.csms_call("GetConfiguration", {"key": ["SupportedFeatureProfiles"]}, step=1)
        ctx.expect_ci("key", ["SupportedFeatureProfiles"], call.payload, step=1, message="GetConfiguration.req")
        answer = call.answer or {}
        ctx.expect_own(
            "unknownKey", [], {"unknownKey": answer.get("unknownKey", [])}, step=2, message="GetConfiguration.conf"
        )
        ctx.expect_ci(
            "configurationKey.0.key",
            "SupportedFeatureProfiles",
            answer,
            step=2,
            message="GetConfiguration.conf",
            own=True,
        )
