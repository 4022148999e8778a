"""The station's answers to CSMS-initiated OCPP 1.6 calls, one module per feature profile.

:class:`Answers` is the dispatcher the connection asks for a handler: a table built from one
object per feature profile (:mod:`.core`, :mod:`.firmware`, :mod:`.local_auth`,
:mod:`.reservation`, :mod:`.smart_charging`, :mod:`.remote_trigger`, and :mod:`.security` for the
OCPP 1.6 security whitepaper's messages). A handler returns its
confirmation; work that must follow the confirmation on the wire (the StartTransaction after a
RemoteStartTransaction.conf) goes in ``Reply.after``. Adding a profile is one new module and one
entry in :data:`PROFILES`; a load generator extends the answers by adding an object of its own
(:meth:`Answers.add`), whose handlers take over the actions they name.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ocpp_users.ocppj.errors import InternalError, OcppCallError
from ocpp_users.ocppj.handlers import HandlerTable
from ocpp_users.ocppj.rpc import Handler, Payload, Reply
from ocpp_users.v16.actions import KNOWN_ACTIONS
from ocpp_users.v16.answers.base import ProfileAnswers
from ocpp_users.v16.answers.core import CoreAnswers
from ocpp_users.v16.answers.firmware import FirmwareAnswers
from ocpp_users.v16.answers.local_auth import LocalAuthAnswers
from ocpp_users.v16.answers.remote_trigger import RemoteTriggerAnswers
from ocpp_users.v16.answers.reservation import ReservationAnswers
from ocpp_users.v16.answers.security import SecurityAnswers
from ocpp_users.v16.answers.smart_charging import SmartChargingAnswers

if TYPE_CHECKING:
    from ocpp_users.v16.station import Station

PROFILES: tuple[type[ProfileAnswers], ...] = (
    CoreAnswers,
    FirmwareAnswers,
    LocalAuthAnswers,
    ReservationAnswers,
    SmartChargingAnswers,
    RemoteTriggerAnswers,
    SecurityAnswers,
)
"""The feature profiles the simulated charger implements, in the specification's order, then the
security extension (whitepaper "Improved security for OCPP 1.6-J", edition 2)."""


@dataclass(slots=True)
class InboundCall:
    """A CSMS-initiated call as the charge point saw it, with the answer it gave."""

    at: float
    action: str
    payload: Payload
    answer: Payload | None
    error: str | None = None


class Answers(HandlerTable):
    """The station's handler table, with the per-station :class:`~ocpp_users.v16.settings.Behaviour`
    (answers forced, failures injected, actions refused) and observers of every answered call."""

    def __init__(self, station: Station, profiles: tuple[type[ProfileAnswers], ...] = PROFILES) -> None:
        super().__init__(KNOWN_ACTIONS)
        self.station = station
        self.profiles: dict[str, ProfileAnswers] = {}
        for cls in profiles:
            answers = cls(station)
            self.profiles[cls.profile] = answers
            self.add(answers)

    def lookup(self, action: str) -> Handler:
        behaviour = self.station.settings.behaviour
        if action in behaviour.unsupported:
            raise self.missing(action)
        handler = super().lookup(action)

        def answer(payload: Payload) -> Payload | Reply:
            try:
                if action in behaviour.fail:
                    raise InternalError(f"{action} failed (configured to fail)", reason="configured to fail")
                if action in behaviour.answers:
                    result: Payload | Reply = {"status": behaviour.answers[action]}
                else:
                    result = handler(payload)
            except OcppCallError as exc:
                self._notify(action, payload, None, str(exc))
                raise
            self._notify(action, payload, result.payload if isinstance(result, Reply) else result, None)
            return result

        return answer

    def _notify(self, action: str, payload: Payload, answer: Payload | None, error: str | None) -> None:
        if self.station.observers:
            self.station.notify(InboundCall(time.time(), action, payload, answer, error))

    @property
    def core(self) -> CoreAnswers:
        answers = self.profiles[CoreAnswers.profile]
        assert isinstance(answers, CoreAnswers)
        return answers


__all__ = ["PROFILES", "Answers", "InboundCall", "ProfileAnswers"]
