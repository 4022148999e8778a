"""Local Auth List Management profile: GetLocalListVersion and SendLocalList."""

from __future__ import annotations

from ocpp_users.ocppj.handlers import on
from ocpp_users.ocppj.rpc import Payload
from ocpp_users.v16.actions import Action
from ocpp_users.v16.answers.base import ProfileAnswers


class LocalAuthAnswers(ProfileAnswers):
    """Answers of the Local Auth List Management profile."""

    profile = "LocalAuthListManagement"

    @on(Action.get_local_list_version)
    def get_local_list_version(self, payload: Payload) -> Payload:
        # From the specification: -1 when the Local Authorization List is not enabled; 0 when
        # no list is installed.
        state = self.state
        if not state.configuration.get_bool("LocalAuthListEnabled"):
            return {"listVersion": -1}
        return {"listVersion": state.local_list.version if state.local_list.entries else 0}

    @on(Action.send_local_list)
    def send_local_list(self, payload: Payload) -> Payload:
        configuration = self.state.configuration
        if not configuration.get_bool("LocalAuthListEnabled"):
            return {"status": "NotSupported"}
        items = payload.get("localAuthorizationList", [])
        if len(items) > configuration.get_int("SendLocalListMaxLength", 100):
            return {"status": "Failed"}
        status = self.state.local_list.apply(payload["listVersion"], payload["updateType"], items)
        return {"status": status}
