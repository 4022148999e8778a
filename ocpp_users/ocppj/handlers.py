"""Per-class, decorator-based registry of handlers for CSMS-initiated calls.

    class MyChargePoint(HandlerRegistry):
        @on(Action.reset)
        def on_reset(self, payload: dict) -> dict: ...

From the specification (OCPP-J 1.6 §4.2.3): an action the receiver does not know is answered
``NotImplemented``; one it recognises but does not support ``NotSupported``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from ocpp_users.ocppj.errors import NotImplementedCallError, NotSupportedError
from ocpp_users.ocppj.rpc import Handler
from ocpp_users.v16.actions import KNOWN_ACTIONS

F = TypeVar("F", bound=Callable[..., Any])


def on(action: str) -> Callable[[F], F]:
    """Mark a method as the handler of ``action`` (a CSMS-initiated CALL)."""

    def mark(method: F) -> F:
        method._ocpp_action = str(action)  # type: ignore[attr-defined]
        return method

    return mark


class HandlerRegistry:
    """Collects ``@on`` handlers per class (subclasses inherit and may override them)."""

    _handler_names: ClassVar[dict[str, str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        names: dict[str, str] = {}
        for klass in reversed(cls.__mro__):
            for attr, value in vars(klass).items():
                action = getattr(value, "_ocpp_action", None)
                if action is not None:
                    names[action] = attr
        cls._handler_names = names

    #: Actions this instance refuses with NotSupported although a handler exists.
    unsupported_actions: frozenset[str] = frozenset()

    def lookup(self, action: str) -> Handler:
        name = self._handler_names.get(action)
        if name is not None and action not in self.unsupported_actions:
            handler: Handler = getattr(self, name)
            return handler
        if action in KNOWN_ACTIONS:
            raise NotSupportedError(f"{action} is not supported by this charge point")
        raise NotImplementedCallError(f"unknown action {action[:40]!r}")

    @classmethod
    def handled_actions(cls) -> frozenset[str]:
        return frozenset(cls._handler_names)
