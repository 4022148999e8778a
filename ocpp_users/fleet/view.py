"""What the Charge points view shows, assembled once for the web UI's page and the HTML report.

The charge points by state over time and the load fidelity over time (SVG charts from the run's
:class:`~ocpp_users.fleet.timeline.Timeline`), the storms on the time axis with their figures
(from the storms' conductor), the CI gates (as they stand while a test runs; as checked when it
ended), the current counts and the fidelity rows.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from locust.env import Environment

from ocpp_users.fleet import storms
from ocpp_users.fleet.chart import STATE_COLORS, Series, line_chart
from ocpp_users.fleet.fleet_fidelity import view_rows
from ocpp_users.fleet.state import STATES
from ocpp_users.fleet.timeline import Marker, Timeline

if TYPE_CHECKING:
    from ocpp_users.fleet.gates import Check
    from ocpp_users.fleet.ui import FleetMonitor

GATES_EVERY = 5.0
"""Seconds between two live evaluations of the CI gates."""
_GATES_CACHE = "_vocpp_gates_cache"


def markers(environment: Environment, timeline: Timeline) -> list[Marker]:
    """The storm rounds of this test on the timeline's axis."""
    conductor = storms.conductor(environment)
    if conductor is None:
        return []
    out = []
    for mark in list(conductor.marks.values()):
        start = float(mark["at"]) - timeline.t0
        duration = mark.get("duration")
        end = start + float(duration) if isinstance(duration, int | float) else None
        out.append(Marker(start=round(start, 2), end=end, label=str(mark["label"]), figure=str(mark.get("figure", ""))))
    return out


def charts(environment: Environment, timeline: Timeline, wide: int = 1200, narrow: int = 620) -> dict[str, str]:
    """The three charts as SVG: charge points by state (``wide``), messages on time and CPU, loop lag."""
    times = timeline.times()
    marks = markers(environment, timeline)
    states = [Series(state, state, STATE_COLORS[state], timeline.series(state)) for state in STATES]
    fidelity = [
        Series("heartbeat_on_time", "Heartbeats on time", "#1e88e5", timeline.series("heartbeat_on_time")),
        Series("meter_values_on_time", "MeterValues on time", "#43a047", timeline.series("meter_values_on_time")),
        Series("cpu_percent", "CPU of the busiest process", "#e53935", timeline.series("cpu_percent")),
    ]
    lag = [Series("loop_lag_ms", "p99 of the busiest process", "#8e24aa", timeline.series("loop_lag_ms"))]
    return {
        "states": line_chart(
            times, states, title="Charge points by state", width=wide, height=320, markers=marks, chart_id="states"
        ),
        "fidelity": line_chart(
            times,
            fidelity,
            title="Load fidelity",
            unit="%",
            width=narrow,
            height=220,
            markers=marks,
            y_max=100.0,
            chart_id="fidelity",
        ),
        "lag": line_chart(
            times, lag, title="Event loop lag", unit="ms", width=narrow, height=220, markers=marks, chart_id="lag"
        ),
    }


def storm_reports(environment: Environment) -> list[dict[str, Any]]:
    """What each load shape measured: its name and lines."""
    conductor = storms.conductor(environment)
    if conductor is None:
        return []
    return [
        {"shape": str(report.get("shape")), "lines": [str(line) for line in report.get("lines") or []]}
        for report in conductor.reports
    ]


def gate_checks(environment: Environment, checks: list[Check] | None = None) -> dict[str, Any]:
    """The CI gates: the given checks (the run's end), else evaluated now (at most every few seconds)."""
    from ocpp_users.fleet import gates  # late: the gates import the summary, which imports the runtime

    options = environment.parsed_options
    configured = gates.configured(options)
    final = checks is not None
    if checks is None and configured:
        cached = getattr(environment, _GATES_CACHE, None)
        now = time.monotonic()
        if cached is not None and now - cached[0] < GATES_EVERY:
            checks = cached[1]
        else:
            try:
                checks = gates.evaluate(environment)
            except Exception as exc:  # a gate that cannot be evaluated is shown failing, never passing
                checks = [gates.Check("gate evaluation", "no error", f"error: {exc!r}", False)]
            setattr(environment, _GATES_CACHE, (now, checks))
    return {
        "configured": configured,
        "final": final,
        "checks": [check.to_json() for check in checks or []],
        "passed": all(check.passed for check in checks or []),
    }


def view_data(environment: Environment, monitor: FleetMonitor) -> dict[str, Any]:
    """Everything the web UI's Charge points page shows but the table."""
    runner = environment.runner
    fidelity = monitor.fidelity.view() if monitor.fidelity is not None else None
    return {
        "state": getattr(runner, "state", ""),
        "counts": monitor.counts(),
        "summary": monitor.summary(),
        "elapsed_s": round(time.monotonic() - monitor.timeline.t0, 1) if monitor.timeline.samples else 0.0,
        "samples": len(monitor.timeline.samples),
        "charts": charts(environment, monitor.timeline),
        "markers": [m.__dict__ for m in markers(environment, monitor.timeline)],
        "storms": storm_reports(environment),
        "gates": gate_checks(environment, getattr(environment, "vocpp_checks", None)),
        "fidelity": [list(row) for row in view_rows(fidelity)] if fidelity is not None else [],
    }
