"""Load fidelity of a fleet run: does the fleet send what its schedule offers, when it should?

Each process that runs charge points (a local runner or a worker) keeps one
:class:`~ocpp_users.fidelity.FidelityTracker`: the charge points' heartbeat and meter values loops
report every periodic send to it (``Station.schedule_observer``), it samples the gevent
loop's lag, the CPU and the garbage collector's pauses from ``test_start`` to ``test_stop``, and
every :data:`CHECK_INTERVAL` seconds its policy is applied: when the fleet falls behind (fewer than
95 % of a kind's messages on time, loop lag p99 over 100 ms) or its CPU saturates, one WARNING
line is logged (at most one a minute) and the "Charge points" tab shows the current warning while
the problem lasts. Workers send their snapshot and current warning to the master with their stats
reports; the master logs each worker's new warning (a worker logs its own at DEBUG only, so that a
warning is written once) and shows the fleet-wide view (counts summed, the worst process's lag and
CPU).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

import gevent
from locust.env import Environment

from ocpp_users.fleet.fidelity import FidelityTracker, KindCounts
from ocpp_users.fleet.runners import is_master, is_worker

log = logging.getLogger("ocpp_users.fleet")

FIDELITY_KEY = "vocpp_fidelity"
"""Key of a worker's fidelity report in the data it sends to the master."""
CHECK_INTERVAL = 5.0
"""Seconds between applications of the warning policy."""
TOLERANCE_S = 1.0
"""A periodic message sent more than this after its due time is late."""
CPU_SATURATED_PERCENT = 95.0
"""Mean CPU over the window (100 = one core, all a gevent process can use) that counts as saturated."""
MAX_PROBLEMS_SHOWN = 10

_COUNT_FIELDS = ("due", "on_time", "late", "missed")
_MAX_FIELDS = (
    "lateness_p99_s",
    "loop_lag_p99_s",
    "loop_lag_max_s",
    "cpu_percent",
    "gc_pause_max_s",
    "run_loop_lag_p99_s",
    "run_cpu_percent",
)


def default_tracker() -> FidelityTracker:
    return FidelityTracker(tolerance_s=TOLERANCE_S, cpu_max_percent=CPU_SATURATED_PERCENT)


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _kind_counts(data: Any) -> KindCounts:
    """A :class:`KindCounts` from its ``as_dict()`` form (missing or bad fields count as 0)."""
    if not isinstance(data, dict):
        return KindCounts()
    counts = KindCounts(max_lateness_s=_number(data.get("max_lateness_s")))
    for name in _COUNT_FIELDS:
        setattr(counts, name, int(_number(data.get(name))))
    return counts


def merge_views(snapshots: Iterable[dict[str, Any]], warnings: Iterable[str]) -> dict[str, Any]:
    """The fleet-wide view of several processes' ``FidelitySnapshot.as_dict()``: counts summed per
    kind, the worst process's lateness, loop lag, CPU and GC pause; the current warnings joined."""
    totals: dict[str, KindCounts] = {}
    window: dict[str, KindCounts] = {}
    worst = dict.fromkeys(_MAX_FIELDS, 0.0)
    processes = 0
    warnings_total = 0
    window_s = 0.0
    for snapshot in snapshots:
        if not isinstance(snapshot, dict):
            continue
        processes += 1
        for target, key in ((totals, "totals"), (window, "window")):
            kinds = snapshot.get(key)
            if isinstance(kinds, dict):
                for kind, data in kinds.items():
                    target.setdefault(str(kind), KindCounts()).add(_kind_counts(data))
        for name in _MAX_FIELDS:
            worst[name] = max(worst[name], _number(snapshot.get(name)))
        warnings_total += int(_number(snapshot.get("warnings")))
        window_s = max(window_s, _number(snapshot.get("window_s")))
    current = [w for w in warnings if w]
    return {
        "processes": processes,
        "window_s": window_s,
        "totals": {kind: counts.as_dict() for kind, counts in sorted(totals.items())},
        "window": {kind: counts.as_dict() for kind, counts in sorted(window.items())},
        **{name: round(value, 4) for name, value in worst.items()},
        "warnings": warnings_total,
        "warning": " | ".join(current[:MAX_PROBLEMS_SHOWN]) if current else None,
    }


def run_figures(view: dict[str, Any]) -> dict[str, Any]:
    """The run's load fidelity for ``--json-summary`` (from a :func:`merge_views` view): the worst
    process's loop lag p99 and mean CPU from the end of the ramp-up (the fleet at its size) to the
    end of the run, and the on-time ratio of each periodic message since the start (None when none
    was due)."""
    totals = view.get("totals") or {}

    def ratio(kind: str) -> float | None:
        counts = _kind_counts(totals.get(kind))
        return round(counts.on_time_ratio, 4) if counts.due else None

    def due(kind: str) -> int:
        return _kind_counts(totals.get(kind)).due

    return {
        "processes": int(_number(view.get("processes"))),
        "loop_lag_p99_ms": round(1000.0 * _number(view.get("run_loop_lag_p99_s")), 2),
        "cpu_percent": round(_number(view.get("run_cpu_percent")), 2),
        "heartbeats_on_time_ratio": ratio("Heartbeat"),
        "heartbeats_due": due("Heartbeat"),
        "meter_values_on_time_ratio": ratio("MeterValues"),
        "meter_values_due": due("MeterValues"),
        "gc_pause_max_ms": round(1000.0 * _number(view.get("gc_pause_max_s")), 1),
        "warnings": int(_number(view.get("warnings"))),
    }


def _percent(ratio: float) -> str:
    return f"{100.0 * ratio:.1f}%" if ratio < 1.0 else "100%"


def view_rows(view: dict[str, Any]) -> list[tuple[str, str]]:
    """(what, value) lines of the "Charge points" tab for a view from :func:`merge_views`."""
    rows: list[tuple[str, str]] = []
    window = view.get("window", {})
    window_s = _number(view.get("window_s"))
    for kind, total in view.get("totals", {}).items():
        total_counts = _kind_counts(total)
        recent = _kind_counts(window.get(kind))
        rows.append(
            (
                f"{kind} on time",
                f"{_percent(recent.on_time_ratio)} of {recent.due} due in the last {window_s:g} s; "
                f"{_percent(total_counts.on_time_ratio)} of {total_counts.due} since the start "
                f"({total_counts.late} late, {total_counts.missed} missed)",
            )
        )
    lag_p99, lag_max = _number(view.get("loop_lag_p99_s")), _number(view.get("loop_lag_max_s"))
    rows.append(("event loop lag", f"p99 {1000.0 * lag_p99:.0f} ms, max {1000.0 * lag_max:.0f} ms"))
    processes = int(_number(view.get("processes")))
    worst = " (busiest process)" if processes > 1 else ""
    rows.append(("CPU", f"{_number(view.get('cpu_percent')):.0f}% of one core{worst}"))
    rows.append(("GC pause", f"max {1000.0 * _number(view.get('gc_pause_max_s')):.0f} ms"))
    rows.append(("fidelity warning", view.get("warning") or "none"))
    return rows


def summary_text(view: dict[str, Any]) -> str:
    """One line for the headless log: on-time ratio per kind since the start, lag and CPU."""
    parts = []
    for kind, total in view.get("totals", {}).items():
        counts = _kind_counts(total)
        parts.append(f"{kind} {_percent(counts.on_time_ratio)} of {counts.due}")
    on_time = f"on time: {', '.join(parts)}; " if parts else ""
    text = (
        f"{on_time}loop lag p99 {1000.0 * _number(view.get('loop_lag_p99_s')):.0f} ms; "
        f"CPU {_number(view.get('cpu_percent')):.0f}%"
    )
    if view.get("warning"):
        text += "; FALLING BEHIND (see the warning)"
    return text


class FleetFidelity:
    """The fidelity tracker of one process, its periodic check, and the workers' reports (master)."""

    def __init__(self, environment: Environment) -> None:
        self.environment = environment
        self.tracker_factory: Callable[[], FidelityTracker] = default_tracker
        """Builds the tracker of each run (tests tune its policy here)."""
        self.tracker = self.tracker_factory()
        self.check_interval = CHECK_INTERVAL
        self.warning: str | None = None
        """This process's current warning, shown until the problem is gone."""
        self.warning_seq = 0
        """Number of warnings logged by this process (the master logs each new one of a worker)."""
        self.worker_reports: dict[str, dict[str, Any]] = {}
        self._worker_seq: dict[str, int] = {}
        self._checker: gevent.Greenlet | None = None

    # ------------------------------------------------------------ this process

    def observe(self, kind: str, since: float, interval: float) -> None:
        """The charge points' ``schedule_observer``: a ``kind`` message due at ``since + interval``
        is sent now."""
        self.tracker.periodic(kind, since, interval)

    @property
    def running(self) -> bool:
        return self._checker is not None and not self._checker.dead

    def start(self) -> None:
        """A fresh tracker for a new run; sample and check until :meth:`stop`."""
        self.stop(final_check=False)
        self.tracker = self.tracker_factory()
        self.warning = None
        self.tracker.start_sampling()
        self._checker = gevent.spawn(self._check_loop)

    def stop(self, final_check: bool = True) -> None:
        checker, self._checker = self._checker, None
        if checker is None:
            return
        checker.kill(block=False)
        if final_check:
            self.check()
        self.tracker.stop_sampling()

    def _check_loop(self) -> None:
        while True:
            gevent.sleep(self.check_interval)
            self.check()

    def check(self) -> str | None:
        """Apply the policy: log a new warning (rate-limited by the tracker) and keep the current
        state's warning for display (None once the problem is gone). Returns the warning logged now."""
        message = self.tracker.warn()
        if message is not None:
            self.warning = message
            self.warning_seq += 1
            # a worker's warning is logged by its master (one console line, not one per process)
            level = logging.DEBUG if is_worker(self.environment.runner) else logging.WARNING
            log.log(level, "fleet: %s", message)
        else:
            self.warning = self.tracker.describe()
        return message

    def report(self) -> dict[str, Any]:
        """What a worker sends to the master."""
        return {"snapshot": self.tracker.snapshot().as_dict(), "warning": self.warning, "seq": self.warning_seq}

    # ------------------------------------------------------------ the master's view

    def receive(self, client_id: str, report: Any) -> None:
        """A worker's report: keep it for the view, log the worker's new warning."""
        if not isinstance(report, dict) or not isinstance(report.get("snapshot"), dict):
            return
        self.worker_reports[client_id] = report
        seq = int(_number(report.get("seq")))
        warning = report.get("warning")
        if seq > self._worker_seq.get(client_id, 0):
            self._worker_seq[client_id] = seq
            if isinstance(warning, str) and warning:
                log.warning("fleet: worker %s: %s", client_id, warning)

    def reset_workers(self) -> None:
        self.worker_reports.clear()

    @property
    def has_data(self) -> bool:
        return self.running or bool(self.tracker.totals) or bool(self.worker_reports)

    def view(self, include_local: bool | None = None) -> dict[str, Any]:
        """This process's snapshot merged with every worker's last report. ``include_local``
        defaults to "not a master" (a master runs no charge points)."""
        if include_local is None:
            include_local = not is_master(self.environment.runner)
        snapshots: list[dict[str, Any]] = []
        warnings: list[str] = []
        if include_local:
            snapshots.append(self.tracker.snapshot().as_dict())
            if self.warning:
                warnings.append(self.warning)
        for client_id, report in sorted(self.worker_reports.items()):
            snapshots.append(report["snapshot"])
            warning = report.get("warning")
            if isinstance(warning, str) and warning:
                warnings.append(f"worker {client_id}: {warning}")
        view = merge_views(snapshots, warnings)
        view["tolerance_s"] = self.tracker.tolerance_s
        return view
