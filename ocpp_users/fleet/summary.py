"""The JSON summary of a run (``--json-summary FILE``): one document a CI job can archive and parse.

Stats per action and in total (merged from all workers on the master), the errors, the fleet's
counts, what each load shape measured (storm timings and latencies), every gate check and the
exit code. Written by the ``quitting`` listener of :mod:`ocpp_users.gates`.
"""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from locust import __version__ as locust_version
from locust.env import Environment
from locust.stats import RequestStats, StatsEntry

from ocpp_users import __version__
from ocpp_users.fleet import storms
from ocpp_users.fleet.fleet_fidelity import run_figures
from ocpp_users.fleet.runners import runner_of
from ocpp_users.fleet.runtime import Fleet
from ocpp_users.ocppj.redact import redact_url

if TYPE_CHECKING:
    from ocpp_users.fleet.gates import Check

SCHEMA_VERSION = 1
PERCENTILES = (0.5, 0.9, 0.95, 0.99)


def _iso(timestamp: float | None) -> str | None:
    if not timestamp:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def entry_figures(entry: StatsEntry) -> dict[str, Any]:
    figures: dict[str, Any] = {
        "type": entry.method,
        "name": entry.name,
        "requests": entry.num_requests,
        "failures": entry.num_failures,
        "failure_ratio": round(entry.fail_ratio, 6),
        "avg_ms": round(entry.avg_response_time, 2),
        "min_ms": round(entry.min_response_time or 0, 2),
        "max_ms": round(entry.max_response_time, 2),
        "rps": round(entry.total_rps, 3),
    }
    for percent in PERCENTILES:
        key = f"p{round(percent * 100)}_ms"
        figures[key] = entry.get_response_time_percentile(percent) if entry.num_requests else None
    return figures


def build(
    environment: Environment, checks: list[Check], *, gates: bool, exit_code: int | None = None
) -> dict[str, Any]:
    """The summary as a dict (see the module docstring)."""
    runner = runner_of(environment)
    stats: RequestStats = runner.stats
    master = storms.conductor(environment)
    clients = getattr(runner, "clients", None)
    total = entry_figures(stats.total)
    total.pop("type", None)
    total.pop("name", None)
    return {
        "schema": SCHEMA_VERSION,
        "tool": f"VolatileOCPP {__version__}",
        "locust": locust_version,
        "host": redact_url(environment.host) if environment.host else environment.host,
        "runner": "master" if clients is not None else "local",
        "workers": len(master.nodes) if clients is not None and master is not None else 0,
        "started_at": _iso(stats.start_time),
        "ended_at": _iso(time.time()),
        "duration_s": round(time.time() - stats.start_time, 3) if stats.start_time else None,
        "totals": total,
        "actions": [
            entry_figures(entry) for entry in sorted(stats.entries.values(), key=lambda e: (e.method or "", e.name))
        ],
        "errors": [
            {"type": error.method, "name": error.name, "error": str(error.error), "occurrences": error.occurrences}
            for error in sorted(stats.errors.values(), key=lambda e: -e.occurrences)
        ],
        "fleet": storms.final_fleet(environment),
        "fidelity": run_figures(Fleet.of(environment).fidelity.view()),
        "shapes": [
            dict(report.get("figures") or {}, shape=report.get("shape"))
            for report in (master.reports if master is not None else [])
        ],
        "gates": {
            "configured": gates,
            "passed": all(check.passed for check in checks),
            "checks": [check.to_json() for check in checks],
        },
        "exit_code": exit_code,
    }


def write(
    path: str, environment: Environment, checks: list[Check], *, gates: bool, exit_code: int | None = None
) -> None:
    """Write the summary to ``path`` (its folder is created), atomically."""
    document = build(environment, checks, gates=gates, exit_code=exit_code)
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    partial = f"{path}.partial"
    with open(partial, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2, default=str)
        handle.write("\n")
    os.replace(partial, path)
