"""Command-line options as tables: one :class:`Option` row per option, registered in groups.

Every option gets an environment variable (``LOCUST_`` + its name), shows in the web UI unless
told otherwise, and keeps Locust's conventions (``is_secret`` masks a value in the web UI). Help
texts state their default themselves, so no raw ``%(default)s`` ever reaches a web UI label.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass

ENV_PREFIX = "LOCUST_"


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

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")

    @property
    def env_var(self) -> str:
        return self.env or ENV_PREFIX + self.dest.upper()

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


def add_group(parser: argparse.ArgumentParser, group: OptionGroup) -> None:
    """Register ``group`` on ``parser`` (Locust's, or a plain one that accepts ``env_var``)."""
    target = parser.add_argument_group(group.title, group.description)
    for option in group.options:
        action = target.add_argument(option.flag, **option.arguments())  # type: ignore[arg-type]
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
