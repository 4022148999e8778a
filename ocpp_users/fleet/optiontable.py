"""Command-line options as tables: one :class:`Option` row per option, registered in groups.

Every option gets an environment variable, ``LOCUST_`` + its name (Locust's own convention, for
every option of ours that Locust parses: fleet, load shapes, CI gates, compliance mode); a
variable an option had before (``VOCPP_OCTT_ID_TAG``) is still read, with a one-line deprecation
note. Every option shows in the web UI unless told otherwise, with a readable label
(:attr:`Option.ui_label`), and keeps Locust's conventions (``is_secret`` masks a value in the
web UI). Help texts state their default themselves, so no raw ``%(default)s`` ever reaches a
label. :func:`add_group` remembers each group it registers (:func:`registered_groups`): the web
UI's form shows them in that order, under their titles.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

ENV_PREFIX = "LOCUST_"

_WORDS = {
    "cp": "charge point",
    "ca": "CA",
    "tls": "TLS",
    "url": "URL",
    "cert": "certificate",
    "dir": "directory",
    "cpo": "CPO",
    "csms": "CSMS",
    "json": "JSON",
    "csv": "CSV",
    "octt": "OCTT",
    "junit": "JUnit",
    "html": "HTML",
    "cmd": "command",
}
"""Words of an option's name as a label spells them."""


@dataclass(frozen=True)
class Option:
    """One option: what argparse needs, plus its environment variable and web UI presence."""

    flag: str
    help: str
    default: object = ""
    metavar: str | None = None
    type: Callable[[str], object] | None = None
    choices: Sequence[object] | None = None
    switch: bool = False
    """A flag without a value (``store_true``)."""
    secret: bool = False
    """Masked in the web UI, never printed."""
    web_ui: bool = True
    env: str | None = None
    """The environment variable, when not ``LOCUST_`` + the option's name."""
    label: str = ""
    """The web UI's label (default: from the option's name, e.g. "Charge point id template")."""
    old_env: str | None = None
    """An environment variable this option had before: still read, with a deprecation note."""

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")

    @property
    def env_var(self) -> str:
        return self.env or ENV_PREFIX + self.dest.upper()

    @property
    def ui_label(self) -> str:
        """A label a person reads: the given one, or the option's name in words (unit: seconds)."""
        if self.label:
            return self.label
        words = [_WORDS.get(word, word) for word in self.dest.split("_")]
        text = " ".join(words)
        text = text[0].upper() + text[1:]
        return f"{text} (s)" if self.metavar == "S" else text

    def arguments(self) -> dict[str, object]:
        """Keyword arguments for ``add_argument`` (without Locust's own keywords)."""
        kwargs: dict[str, object] = {"help": self.help, "default": self.default, "env_var": self.env_var}
        if self.switch:
            kwargs["action"] = "store_true"
            return kwargs
        if self.metavar is not None:
            kwargs["metavar"] = self.metavar
        if self.type is not None:
            kwargs["type"] = self.type
        if self.choices is not None:
            kwargs["choices"] = list(self.choices)
        return kwargs


@dataclass(frozen=True)
class OptionGroup:
    """A titled group of options, listed together in ``--help`` and ``volatileocpp fleet-options``."""

    title: str
    description: str
    options: tuple[Option, ...]


GROUP_ORDER = (
    "CSMS connection",
    "Charge points",
    "Sessions and timing",
    "Charger behaviour",
    "Load shapes",
    "CI gates",
    "Security extension",
    "Compliance mode",
)
"""Groups in the order a user thinks of them (a group's title is matched by its start)."""

_REGISTERED: dict[str, OptionGroup] = {}
_NOTED: set[str] = set()


def registered_groups() -> list[OptionGroup]:
    """Every group :func:`add_group` registered in this process, in the order of registration."""
    return list(_REGISTERED.values())


def ordered_groups(groups: Iterable[OptionGroup] | None = None) -> list[OptionGroup]:
    """``groups`` (default: the registered ones) in :data:`GROUP_ORDER`, others after them as given."""
    groups = list(registered_groups() if groups is None else groups)

    def rank(group: OptionGroup) -> int:
        for index, title in enumerate(GROUP_ORDER):
            if group.title.startswith(title):
                return index
        return len(GROUP_ORDER)

    return sorted(groups, key=rank)


def _old_env_default(option: Option) -> object:
    """The default, or the value of the option's old environment variable when only that one is set
    (noted once per process on stderr: logging is not set up while Locust parses its options)."""
    old = option.old_env
    if not old or old not in os.environ or option.env_var in os.environ:
        return option.default
    if old not in _NOTED:
        _NOTED.add(old)
        sys.stderr.write(f"note: {old} is deprecated, use {option.env_var} (read {old} this time)\n")
        sys.stderr.flush()
    value = os.environ[old]
    if option.switch:
        return value.strip().lower() in ("1", "true", "yes", "on")
    return value


def add_group(parser: argparse.ArgumentParser, group: OptionGroup) -> None:
    """Register ``group`` on ``parser`` (Locust's, or a plain one that accepts ``env_var``)."""
    _REGISTERED.setdefault(group.title, group)
    target = parser.add_argument_group(group.title, group.description)
    for option in group.options:
        arguments = option.arguments()
        if option.old_env:
            arguments["default"] = _old_env_default(option)
        action = target.add_argument(option.flag, **arguments)  # type: ignore[arg-type]
        # Locust reads these from every action when it builds the web UI form.
        action.include_in_web_ui = option.web_ui  # type: ignore[attr-defined]
        action.is_secret = option.secret  # type: ignore[attr-defined]
        action.is_required = False  # type: ignore[attr-defined]
        action.is_multiple = False  # type: ignore[attr-defined]


def checked_text(check: Callable[[str], object], name: str) -> Callable[[str], str]:
    """An argparse ``type`` that checks a value at parse time but keeps it text, so that the web UI
    can still edit it as text; a bad value ends Locust with one ``error:`` line (exit code 2)."""

    def convert(text: str) -> str:
        if str(text).strip():
            try:
                check(text)
            except ValueError as exc:
                raise argparse.ArgumentTypeError(str(exc)) from None
        return text

    convert.__name__ = name
    return convert
