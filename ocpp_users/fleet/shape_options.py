"""The load shapes' options (``--shape``, ``--storm-*``, ...): a table of rows, without side effects.

:mod:`ocpp_users.fleet.shapes` registers them on Locust's parser (``locustfiles/fleet.py`` loads
it, so ``--shape`` works with the fleet alone); ``volatileocpp fleet-options`` lists them.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import Any

from ocpp_users.fleet.optiontable import Option, OptionGroup


def _positive(kind: Callable[[str], Any], minimum: float = 0.0, strict: bool = True) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, not {text!r}") from None
        if not math.isfinite(value) or value < minimum or (strict and value == minimum):
            raise argparse.ArgumentTypeError(f"must be {'above' if strict else 'at least'} {minimum:g}, not {text!r}")
        return value

    convert.__name__ = kind.__name__
    return convert


def parse_jitters(text: str) -> list[float]:
    values = []
    for item in str(text).split(","):
        if not item.strip():
            continue
        try:
            value = float(item)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected comma-separated jitter fractions, not {text!r}") from None
        if not 0.0 <= value <= 1.0:
            raise argparse.ArgumentTypeError(f"a jitter fraction is between 0 and 1, not {item.strip()!r}")
        values.append(value)
    if not values:
        raise argparse.ArgumentTypeError("no jitter value given")
    return values


def _jitter_text(text: str) -> str:
    parse_jitters(text)
    return text


def _fraction(text: str) -> float:
    value = _positive(float)(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"a fraction is at most 1, not {text!r}")
    return float(value)


SHAPES: dict[str, str] = {
    "steady": "SteadyRamp",
    "boot-storm": "BootStorm",
    "reconnect-storm": "ReconnectStorm",
    "rolling-restart": "RollingRestart",
    "peak-hour": "PeakHour",
}
"""--shape value -> class name."""


SHAPE_OPTIONS = OptionGroup(
    "Load shapes",
    "-u is the number of charge points, -r the rate they connect at; -t keeps the fleet running after the "
    "shape's steps.",
    (
        Option(
            "--shape",
            "load shape: steady ramp to -u; boot-storm (connect and hold, then every BootNotification at once); "
            "reconnect-storm (every connection dropped at once, per --storm-jitter); rolling-restart (drops in "
            "--restart-waves waves); peak-hour (--peak-fraction of the fleet charging); none = plain -u/-r "
            "(default: steady with locustfiles/shapes.py, none with locustfiles/fleet.py alone)",
            default=None,
            choices=(*SHAPES, "none"),
            label="Load shape",
        ),
        Option(
            "--storm-timeout",
            "longest wait for each step (all connected, all booted, all back) before it is reported as "
            "incomplete (default 60)",
            default=60.0,
            metavar="S",
            type=_positive(float),
            label="Longest wait per storm step (s)",
        ),
        Option(
            "--storm-hold",
            "seconds the fleet is held idle before and after each storm (default 2)",
            default=2.0,
            metavar="S",
            type=_positive(float, strict=False),
            label="Idle hold before and after a storm (s)",
        ),
        Option(
            "--storm-jitter",
            "reconnect storm rounds, one per backoff jitter fraction: 0 reconnects everyone after exactly the "
            "first backoff step (the worst case), 0.5 spreads them (default 0,0.5)",
            default="0,0.5",
            metavar="LIST",
            type=_jitter_text,
            label="Reconnect storm: backoff jitters",
        ),
        Option(
            "--storm-outage",
            "reconnect storm and rolling restart: keep the dropped charge points offline this long (a CSMS "
            "outage) before they reconnect; meanwhile their sessions go on offline and queue their transaction "
            "messages, replayed after the reconnect (default 0: reconnect at once)",
            default=0.0,
            metavar="S",
            type=_positive(float, strict=False),
            label="Storm outage before reconnecting (s)",
        ),
        Option(
            "--restart-waves",
            "rolling restart: drop the fleet in K waves, one after another (default 4)",
            default=4,
            metavar="K",
            type=_positive(int),
            label="Rolling restart: waves",
        ),
        Option(
            "--peak-fraction",
            "peak hour: fraction of the charge points kept charging (default 0.3)",
            default=0.3,
            metavar="F",
            type=_fraction,
            label="Peak hour: fraction charging",
        ),
        Option(
            "--peak-duration",
            "peak hour: how long the peak lasts (default 30)",
            default=30.0,
            metavar="S",
            type=_positive(float),
            label="Peak hour: duration (s)",
        ),
    ),
)
