"""The :class:`Case` base class and the registry of OCTT cases.

A case is one module under a package of :data:`CASE_PACKAGES` (``scenarios/v16/<profile>``)
holding one ``Case`` subclass decorated with :func:`register`. :func:`all_cases` imports every
module of those packages (``pkgutil``) and returns the cases in document order (section, then
table number), so adding a case touches exactly one file.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING, ClassVar, TypeVar

if TYPE_CHECKING:
    from scenarios.context import Context
    from scenarios.options import RunOptions

#: Packages whose modules are case files.
CASE_PACKAGES = (
    "scenarios.v16.core",
    "scenarios.v16.local_auth",
    "scenarios.v16.firmware",
    "scenarios.v16.reservation",
    "scenarios.v16.remote_trigger",
    "scenarios.v16.smart_charging",
    "scenarios.v16.security",
)

#: Preconditions a case may declare, with how to satisfy them.
PRECONDITIONS: dict[str, str] = {
    "valid_tag": "an idTag the CSMS accepts (--id-tag)",
    "invalid_tag": "an idTag unknown to the CSMS (--invalid-tag; a random one by default)",
    "expired_tag": "an idTag with status Expired in the CSMS (--expired-tag)",
    "blocked_tag": "an idTag with status Blocked in the CSMS (--blocked-tag)",
    "group_tag": "a second Accepted idTag with the same parentIdTag as --id-tag (--group-tag)",
    "parent_tag": "the parentIdTag of --id-tag and --group-tag in the CSMS (--parent-id-tag)",
}


class Case:
    """One OCTT test case for a Central System; subclasses set the class attributes and ``run``."""

    case_id: ClassVar[str] = ""
    """The document's id, e.g. ``TC_001_CSMS``."""
    title: ClassVar[str] = ""
    """The document's "Test case name"."""
    section: ClassVar[str] = ""
    """Section number in the OCTT 1.6 test case document, e.g. ``3.1.1``."""
    table: ClassVar[int] = 0
    """Table number in the document (orders cases that share a section, like TC_085/TC_086)."""
    profile: ClassVar[str] = "Core"
    """OCPP 1.6 feature profile (``Core``, ``FirmwareManagement``, ``LocalAuthListManagement``,
    ``Reservation``, ``SmartCharging``, ``RemoteTrigger``) or ``Security`` for the security
    whitepaper cases: a case of a profile the CSMS does not declare is NOT APPLICABLE."""
    also_profiles: ClassVar[tuple[str, ...]] = ()
    """Further feature profiles the case needs (TC_080/TC_081: FirmwareManagement beside Security)."""
    cp_actions: ClassVar[tuple[str, ...]] = ()
    """Charge-point-initiated actions the CSMS must answer."""
    csms_actions: ClassVar[tuple[str, ...]] = ()
    """Actions the CSMS must send (a trigger driver or an operator makes it)."""
    set_up: ClassVar[str] = ""
    """The set-up the case needs beyond a driver and idTags, as ``--list`` shows it (the security
    cases: a security profile, certificates); :meth:`not_applicable` says why a run lacks it."""
    preconditions: ClassVar[tuple[str, ...]] = ()
    """Keys of :data:`PRECONDITIONS` the case needs."""
    steps: ClassVar[tuple[str, ...]] = ()
    """The scenario as written in the document, one entry per step."""

    @classmethod
    def order_key(cls) -> tuple[tuple[int, ...], int, str]:
        numbers = tuple(int(part) for part in cls.section.split(".") if part.isdigit())
        return numbers, cls.table, cls.case_id

    @classmethod
    def not_applicable(cls, options: RunOptions) -> str | None:
        """A reason the case cannot run with these options (TC_085/TC_086 override this)."""
        return None

    def run(self, ctx: Context) -> None:
        raise NotImplementedError


C = TypeVar("C", bound=type[Case])

_REGISTRY: dict[str, type[Case]] = {}


def register(cls: C) -> C:
    """Class decorator: add the case to the registry (ids must be unique)."""
    if not cls.case_id or not cls.section:
        raise TypeError(f"{cls.__name__} must set case_id and section")
    existing = _REGISTRY.get(cls.case_id)
    if existing is not None and existing is not cls and existing.__qualname__ != cls.__qualname__:
        raise TypeError(f"duplicate case id {cls.case_id}: {existing.__qualname__} and {cls.__qualname__}")
    unknown = set(cls.preconditions) - set(PRECONDITIONS)
    if unknown:
        raise TypeError(f"{cls.case_id}: unknown preconditions {sorted(unknown)}")
    _REGISTRY[cls.case_id] = cls
    return cls


def _discover() -> None:
    for package_name in CASE_PACKAGES:
        package = importlib.import_module(package_name)
        for info in pkgutil.iter_modules(package.__path__, package_name + "."):
            importlib.import_module(info.name)


def all_cases() -> list[type[Case]]:
    """Every registered case, in document order."""
    _discover()
    return sorted(_REGISTRY.values(), key=lambda cls: cls.order_key())
