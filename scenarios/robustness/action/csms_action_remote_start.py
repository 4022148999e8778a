"""action.csms_action_remote_start: RemoteStartTransaction sent by the charge point."""

from __future__ import annotations

from typing import Any

from scenarios.robustness.base import register
from scenarios.robustness.context import RobustContext
from scenarios.robustness.shapes import NOT_IMPLEMENTED_INSTEAD, NOT_SUPPORTED, CallCase


@register
class CsmsActionRemoteStart(CallCase):
    case_id = "action.csms_action_remote_start"
    title = "A Central System's action sent by the charge point (RemoteStartTransaction)"
    clause = "OCPP-J 1.6 §4.2.3; OCPP 1.6 §5.11"
    requirement = (
        "NotSupported: Requested Action is recognized but not supported by the receiver. (OCPP 1.6 §5: "
        "RemoteStartTransaction is initiated by the Central System; a Central System has no connector to start.)"
    )
    sends = 'RemoteStartTransaction {"idTag":<--id-tag>}'
    action = "RemoteStartTransaction"
    passed = (NOT_SUPPORTED,)
    non_strict = (NOT_IMPLEMENTED_INSTEAD, *CallCase.non_strict)
    order = 7

    def payload(self, ctx: RobustContext) -> Any:
        return {"idTag": ctx.options.id_tag}
