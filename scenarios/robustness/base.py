"""The :class:`RobustCase` base class and the registry of robustness cases.

A case is one module under ``scenarios/robustness/<group>/`` holding one ``RobustCase`` subclass
decorated with :func:`register`: its id (``group.name``), the clause it tests and the clause's
words, what it sends, and the outcomes it accepts (:mod:`scenarios.robustness.expect`). The runner
connects and boots a charge point (unless the case opens its own connections), calls :meth:`run`,
judges the outcome, then probes the CSMS's liveness and the control fleet.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING, ClassVar, TypeVar

from scenarios.robustness.expect import LENIENT, Expect, Judgement, judge
from scenarios.robustness.options import GROUPS, RobustOptions

if TYPE_CHECKING:
    from scenarios.robustness.context import RobustContext
    from scenarios.robustness.outcome import Outcome


class RobustCase:
    """One hostile input and the outcomes the CSMS may answer it with."""

    case_id: ClassVar[str] = ""
    """``group.name``, e.g. ``frame.invalid_json``."""
    group: ClassVar[str] = ""
    title: ClassVar[str] = ""
    clause: ClassVar[str] = ""
    """Where the rule is, e.g. ``OCPP-J 1.6 §4.1.2``."""
    requirement: ClassVar[str] = ""
    """The clause's words (quoted)."""
    sends: ClassVar[str] = ""
    """What goes on the wire, for ``--list``."""
    passed: ClassVar[tuple[Expect, ...]] = ()
    non_strict: ClassVar[tuple[Expect, ...]] = LENIENT
    bad_input: ClassVar[bool] = True
    """The input is invalid: a CALLRESULT to it is "bad input accepted as valid". Only then may the
    wait for its answer be cut short by the sentinel Heartbeat (:mod:`.outcome`); a valid input that
    must be answered gets the whole ``--answer-timeout``."""
    boot: ClassVar[bool] = True
    """The runner opens the case's connection (``ctx.conn``) and boots before :meth:`run`."""
    connect: ClassVar[bool] = True
    """The runner opens ``ctx.conn`` (False: the case opens every connection itself)."""
    order: ClassVar[int] = 0

    @classmethod
    def not_applicable(cls, options: RobustOptions) -> str | None:
        """Why the case cannot run with these options, or None."""
        return None

    def frame(self, message_id: str) -> str | bytes:
        """The text frame the default :meth:`run` sends on ``ctx.conn``."""
        raise NotImplementedError

    def run(self, ctx: RobustContext) -> Outcome:
        """Send the hostile input and observe what comes back; the default sends :meth:`frame`."""
        message_id = ctx.new_id()
        ctx.send(ctx.conn, self.frame(message_id), message_id)
        return ctx.observe(ctx.conn, {message_id}, sentinel=self.bad_input)

    def judge(self, outcome: Outcome) -> Judgement:
        return judge(self.passed, self.non_strict, outcome, self.bad_input)

    def cleanup(self, ctx: RobustContext) -> None:
        """Undo what the case left in the CSMS (open transactions), after the liveness probe."""


C = TypeVar("C", bound=type[RobustCase])

_REGISTRY: dict[str, type[RobustCase]] = {}


def register(cls: C) -> C:
    """Class decorator: add the case to the registry (ids must be unique and name their group)."""
    group = cls.case_id.partition(".")[0]
    if not cls.case_id or group not in GROUPS or not cls.clause or not cls.passed or not cls.sends:
        raise TypeError(f"{cls.__name__} must set case_id (group.name), clause, sends and passed")
    cls.group = group
    existing = _REGISTRY.get(cls.case_id)
    if existing is not None and existing.__qualname__ != cls.__qualname__:
        raise TypeError(f"duplicate case id {cls.case_id}: {existing.__qualname__} and {cls.__qualname__}")
    _REGISTRY[cls.case_id] = cls
    return cls


def _discover() -> None:
    for group in GROUPS:
        package = importlib.import_module(f"scenarios.robustness.{group}")
        for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
            importlib.import_module(info.name)


def all_cases() -> list[type[RobustCase]]:
    """Every registered case: by group (in :data:`GROUPS` order), then ``order``, then id."""
    _discover()
    return sorted(_REGISTRY.values(), key=lambda c: (GROUPS.index(c.group), c.order, c.case_id))
