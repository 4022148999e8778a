"""TC_004_1_CSMS: Regular Charging Session - Identification First (OCTT 1.6, section 3.2.2, Table 119)."""

from __future__ import annotations

from scenarios.base import Case, register
from scenarios.context import Context


@register
class RegularChargingIdentificationFirst(Case):
    """ "To test if the Central System can handle when the Charge Point starts a charging session
    when first doing authorization."

    The document's scenario is only a link to the reusable state Charging (which includes
    Authorized); its checks are that state's: Authorize.conf and StartTransaction.conf Accepted.
    The transaction stays open (the runner stops it afterwards).
    """

    case_id = "TC_004_1_CSMS"
    title = "Regular Charging Session - Identification First"
    section = "3.2.2"
    table = 119
    cp_actions = ("Authorize", "StatusNotification", "StartTransaction")
    preconditions = ("valid_tag",)
    steps = ("- Charging (reusable state: Authorized, Preparing, StartTransaction, Charging)",)

    def run(self, ctx: Context) -> None:
        ctx.charging()
