"""The "Charge points" view of a fleet run: how many charge points are connecting, booting,
booted, charging, reconnecting and failed (counted as they change, by :mod:`ocpp_users.fleet.state`),
and how many calls the run itself stopped.

Shown as a web UI tab (plus the JSON endpoint ``/charge-points``), logged as one line every 10 s
in headless mode and once at the end, together with the load fidelity of
:mod:`ocpp_users.fleet_fidelity` (on-time ratio per kind, loop lag, CPU, the current warning).
Workers send their counts and fidelity snapshot to the master with their stats reports; the counts
of a worker that quit or went missing are dropped, and all are cleared when a test starts. Failures
are aggregated: the first occurrence of each distinct reason is logged with what the CSMS said,
repeats at most once a minute with their count (:mod:`~ocpp_users.fleet.failure_log`); connection
problems are counted once more at the end.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

import gevent
from locust.env import Environment
from locust.web import WebUI

from ocpp_users.fleet.failure_log import FailureLog
from ocpp_users.fleet.fleet_fidelity import FIDELITY_KEY, FleetFidelity, summary_text, view_rows
from ocpp_users.fleet.state import STATES, fleet_state
from ocpp_users.ocppj.sink import WEBSOCKET

log = logging.getLogger("ocpp_users.fleet")

REPORT_KEY = "vocpp_charge_points"
TAB_KEY = "charge-points"
SUMMARY_INTERVAL = 10.0


STOPPED_KEY = "calls_stopped"
"""Calls the harness stopped (the run ending, users stopping): shown apart, never failures."""


def empty_counts() -> dict[str, int]:
    return dict.fromkeys(("total", *STATES, STOPPED_KEY), 0)


def summary_line(counts: dict[str, int]) -> str:
    parts = ", ".join(f"{state} {counts.get(state, 0)}" for state in STATES)
    line = f"charge points: {counts.get('total', 0)} ({parts})"
    stopped = counts.get(STOPPED_KEY, 0)
    if stopped:
        line += f"; {stopped} call(s) stopped by the run (not CSMS failures)"
    return line


class FleetMonitor:
    """Counts of this process's charge points, and of the workers' when this is the master."""

    def __init__(self, environment: Environment, fidelity: FleetFidelity | None = None) -> None:
        self.environment = environment
        self.fidelity = fidelity
        """Load fidelity shown with the counts (None: counts only)."""
        self.worker_counts: dict[str, dict[str, int]] = {}
        self.failure_log = FailureLog(log)
        self._printer: gevent.Greenlet | None = None
        self._installed = False
        self.target = ""
        """The CSMS base URL, for log lines about connection failures."""

    # ------------------------------------------------------------ counting

    def local_counts(self) -> dict[str, int]:
        """This process's counts, as they are now (kept current by the charge points: O(1))."""
        state = fleet_state(self.environment)
        counts = empty_counts()
        counts.update(state.counts)
        counts[STOPPED_KEY] = sum(state.calls_stopped.values())
        return counts

    def prune_workers(self) -> None:
        """Forget the counts of workers that quit, were removed or are missing (Locust fires no
        event for these: its runner's worker list is the truth)."""
        clients = getattr(self.environment.runner, "clients", None)
        if clients is None or not self.worker_counts:
            return
        live = {client.id for client in clients.all if getattr(client, "state", "") != "missing"}
        for worker in [worker for worker in self.worker_counts if worker not in live]:
            del self.worker_counts[worker]

    def counts(self) -> dict[str, int]:
        """This process's counts plus the last report of every live worker."""
        self.prune_workers()
        counts = self.local_counts()
        for report in list(self.worker_counts.values()):
            for key, value in report.items():
                if key in counts and isinstance(value, int):
                    counts[key] += value
        return counts

    def rows(self) -> list[dict[str, Any]]:
        counts = self.counts()
        rows: list[dict[str, Any]] = [{"state": "total", "count": counts["total"]}] + [
            {"state": state, "count": counts[state]} for state in STATES
        ]
        rows.append({"state": "calls stopped by the run", "count": counts[STOPPED_KEY]})
        if self.fidelity is not None:
            rows.extend({"state": what, "count": value} for what, value in view_rows(self.fidelity.view()))
        return rows

    def summary(self) -> str:
        line = summary_line(self.counts())
        if self.fidelity is not None and self.fidelity.has_data:
            line += f" | {summary_text(self.fidelity.view())}"
        return line

    def reset_run(self) -> None:
        """A new test: first failures are logged again; workers' counts come with their next reports."""
        self.failure_log.reset()
        self.worker_counts.clear()

    # ------------------------------------------------------------ listeners

    def install(self) -> None:
        """Listen to the request event (first failures) and the worker reports."""
        if self._installed:
            return
        self._installed = True
        events = self.environment.events
        events.request.add_listener(self._on_request)
        events.report_to_master.add_listener(self._on_report_to_master)
        events.worker_report.add_listener(self._on_worker_report)

    def _on_report_to_master(self, client_id: str, data: dict[str, Any], **_: Any) -> None:
        data[REPORT_KEY] = self.local_counts()
        if self.fidelity is not None:
            data[FIDELITY_KEY] = self.fidelity.report()

    def _on_worker_report(self, client_id: str, data: dict[str, Any], **_: Any) -> None:
        report = data.get(REPORT_KEY)
        if isinstance(report, dict):
            self.worker_counts[client_id] = report
        if self.fidelity is not None:
            self.fidelity.receive(client_id, data.get(FIDELITY_KEY))

    def _on_request(self, request_type: str, name: str, exception: BaseException | None = None, **_: Any) -> None:
        if exception is None:
            return
        # Once per kind with what the CSMS said, then rate-limited with a count (fleet/failure_log.py).
        self.failure_log.target = self.target
        self.failure_log.report(request_type, name, exception)

    # ------------------------------------------------------------ headless log

    def start_printer(self, interval: float = SUMMARY_INTERVAL) -> None:
        if self._printer is not None and not self._printer.dead:
            return

        def loop() -> None:
            while True:
                gevent.sleep(interval)
                log.info(self.summary())

        self._printer = gevent.spawn(loop)

    def stop_printer(self) -> None:
        if self._printer is not None:
            self._printer.kill(block=False)
            self._printer = None

    def connection_problems(self) -> list[str]:
        """One line per distinct WebSocket failure reason, with its count (from the run's stats)."""
        runner = self.environment.runner
        if runner is None:
            return []
        lines = []
        for error in runner.stats.errors.values():
            if error.method == WEBSOCKET:
                lines.append(f"{error.name}: {_plain(error.error)} x{error.occurrences}")
        return sorted(lines)

    # ------------------------------------------------------------ web UI

    def install_web_ui(self, web_ui: WebUI) -> None:
        """A "Charge points" tab (locust's extended tabs) and ``GET /charge-points`` (JSON)."""
        from flask import jsonify, request

        args = web_ui.template_args
        args["extended_tabs"] = _merge(args.get("extended_tabs"), {"title": "Charge points", "key": TAB_KEY})
        args["extended_tables"] = _merge(
            args.get("extended_tables"),
            {
                "key": TAB_KEY,
                "structure": [{"key": "state", "title": "State / measure"}, {"key": "count", "title": "Value"}],
            },
        )
        protect: Callable[[Callable[..., Any]], Callable[..., Any]] = getattr(
            web_ui, "auth_required_if_enabled", lambda view: view
        )

        def charge_points() -> Any:
            body: dict[str, Any] = {"counts": self.counts(), "summary": self.summary()}
            if self.fidelity is not None:
                body["fidelity"] = self.fidelity.view()
            return jsonify(body)

        app = web_ui.app
        if app is None:
            return
        app.add_url_rule("/charge-points", "vocpp_charge_points", protect(charge_points))

        @app.after_request
        def add_charge_points(response: Any) -> Any:
            if not request.path.endswith("/stats/requests") or response.status_code != 200:
                return response
            body = response.get_json(silent=True)
            if isinstance(body, dict):
                extended = [e for e in body.get("extended_stats") or [] if e.get("key") != TAB_KEY]
                extended.append({"key": TAB_KEY, "data": self.rows()})
                body["extended_stats"] = extended
                response.set_data(json.dumps(body))
            return response


def _merge(existing: Iterable[dict[str, Any]] | None, entry: dict[str, Any]) -> list[dict[str, Any]]:
    items = [item for item in existing or [] if item.get("key") != entry["key"]]
    items.append(entry)
    return items


def _plain(error: Any) -> str:
    """``TransportError('connection refused')`` -> ``connection refused``."""
    if isinstance(error, BaseException):
        return str(error)
    text = str(error)
    head, sep, rest = text.partition("(")
    if sep and head.isidentifier() and rest.endswith(")") and len(rest) >= 3 and rest[0] in "'\"":
        return rest[1:-2]
    return text
