"""Handlers for CSMS-initiated calls: an ``@on`` decorator and a table built from objects.

    class Reservation:
        @on("ReserveNow")
        def reserve_now(self, payload: dict) -> dict: ...

    table = HandlerTable(version.actions, Core(station), Reservation(station))
    connection = OcppConnection(ws, table, version=version)

From the specification (OCPP-J 1.6 §4.2.3): an action the receiver does not know is answered
``NotImplemented``; one it recognises but does not support ``NotSupported``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from ocpp_users.ocppj.errors import NotImplementedCallError, NotSupportedError, OcppCallError
from ocpp_users.ocppj.rpc import Handler

F = TypeVar("F", bound=Callable[..., Any])
_MARK = "_ocpp_action"


def on(action: str) -> Callable[[F], F]:
    """Mark a method as the handler of ``action`` (a CSMS-initiated CALL)."""

    def mark(method: F) -> F:
        setattr(method, _MARK, str(action))
        return method

    return mark


def handlers_of(obj: object) -> dict[str, Handler]:
    """``obj``'s bound methods marked with :func:`on`, by action (a subclass's override wins)."""
    found: dict[str, Handler] = {}
    for klass in reversed(type(obj).__mro__):
        for attr, value in vars(klass).items():
            action = getattr(value, _MARK, None)
            if isinstance(action, str) and inspect.isfunction(value):
                found[action] = getattr(obj, attr)
    return found


class HandlerTable:
    """A dispatcher for :class:`~ocpp_users.ocppj.rpc.OcppConnection`: the handlers of several
    objects in one table; an object added later takes over the actions it handles."""

    def __init__(self, actions: frozenset[str], *objects: object) -> None:
        self.actions = actions
        """Every action of the OCPP version spoken (decides NotSupported versus NotImplemented)."""
        self.unsupported: frozenset[str] = frozenset()
        """Actions refused with NotSupported although a handler exists."""
        self._table: dict[str, Handler] = {}
        for obj in objects:
            self.add(obj)

    def add(self, obj: object) -> None:
        self._table.update(handlers_of(obj))

    def handled_actions(self) -> frozenset[str]:
        return frozenset(self._table)

    def find(self, action: str) -> Handler | None:
        """The handler of ``action`` (None when there is none)."""
        return self._table.get(action)

    def lookup(self, action: str) -> Handler:
        handler = self._table.get(action)
        if handler is not None and action not in self.unsupported:
            return handler
        raise self.missing(action)

    def missing(self, action: str) -> OcppCallError:
        """The CALLERROR for an action without a handler: NotSupported when the version defines it."""
        if action in self.actions:
            return NotSupportedError(f"{action} is not supported by this charge point")
        return NotImplementedCallError(f"unknown action {action[:40]!r}")
