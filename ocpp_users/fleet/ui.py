"""The "Charge points" view of a fleet run: how many charge points are connecting, booting,
booted, charging, reconnecting and failed (counted as they change, by :mod:`ocpp_users.fleet.state`),
and how many calls the run itself stopped.

Logged as one line every 10 s while a headless test runs and once at its end, together with the
load fidelity of :mod:`ocpp_users.fleet_fidelity` (on-time ratio per kind, loop lag, CPU, the
current warning); sampled once a second into the run's :class:`~ocpp_users.fleet.timeline.Timeline`
(the charts of the web UI's Charge points tab and of the ``--html`` report, :mod:`.webui` and
:mod:`.report`); its per-charge-point table comes from :class:`~ocpp_users.fleet.cptable.RowBroker`.
Workers send their counts and fidelity snapshot to the master with their stats reports (fresher
counts come with the storms' state messages); the counts of a worker that quit or went missing are
dropped, and all are cleared when a test starts. Failures are aggregated: the first occurrence of
each distinct reason is logged with what the CSMS said, repeats at most once a minute with their
count (:mod:`~ocpp_users.fleet.failure_log`); a worker sends its lines to the master, which logs
each kind once for the whole fleet (under ``--processes`` they share one console); connection
problems are counted once more at the end.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import gevent
from locust.env import Environment

from ocpp_users.fleet import storms
from ocpp_users.fleet.cptable import RowBroker
from ocpp_users.fleet.failure_log import FailureLog
from ocpp_users.fleet.fleet_fidelity import FIDELITY_KEY, FleetFidelity, summary_text, view_rows
from ocpp_users.fleet.runners import is_worker
from ocpp_users.fleet.state import STATES, fleet_state
from ocpp_users.fleet.timeline import Timeline, fidelity_sample
from ocpp_users.ocppj.sink import WEBSOCKET

log = logging.getLogger("ocpp_users.fleet")

REPORT_KEY = "vocpp_charge_points"
LOG_KEY = "vocpp_log_lines"
"""Key of a worker's new failure log lines in the data it sends to the master."""
TAB_KEY = "charge-points"
SUMMARY_INTERVAL = 10.0
LINE_WINDOW = 60.0
"""The master logs a kind of failure of its workers at most once per this many seconds."""
MAX_KINDS = 200


STOPPED_KEY = "calls_stopped"
"""Calls the harness stopped (the run ending, users stopping): shown apart, never failures."""


UNSENT_KEY = "unsent_messages"
"""Transaction messages still queued when their charge point stopped (the run ending): never delivered."""
OVERFLOW_KEY = "overflow_messages"
"""MeterValues dropped because a charge point's offline queue was full (--offline-queue-max)."""


def empty_counts() -> dict[str, int]:
    return dict.fromkeys(("total", *STATES, STOPPED_KEY, UNSENT_KEY, OVERFLOW_KEY), 0)


def summary_line(counts: dict[str, int]) -> str:
    parts = ", ".join(f"{state} {counts.get(state, 0)}" for state in STATES)
    line = f"charge points: {counts.get('total', 0)} ({parts})"
    stopped = counts.get(STOPPED_KEY, 0)
    if stopped:
        line += f"; {stopped} call(s) stopped by the run (not CSMS failures)"
    lost = queue_losses(counts)
    return f"{line}; {lost}" if lost else line


def queue_losses(counts: dict[str, int]) -> str:
    """The transaction messages the charge points' queues never delivered ("" when none): still
    queued when the run stopped (the harness stopping, not a CSMS failure), or dropped from a full
    queue."""
    parts = []
    unsent = counts.get(UNSENT_KEY, 0)
    if unsent:
        parts.append(f"{unsent} transaction message(s) never delivered (queued when the run stopped)")
    overflow = counts.get(OVERFLOW_KEY, 0)
    if overflow:
        parts.append(f"{overflow} MeterValues dropped (offline queue full, --offline-queue-max)")
    return "; ".join(parts)


class FleetMonitor:
    """Counts of this process's charge points, and of the workers' when this is the master."""

    def __init__(self, environment: Environment, fidelity: FleetFidelity | None = None) -> None:
        self.environment = environment
        self.fidelity = fidelity
        """Load fidelity shown with the counts (None: counts only)."""
        self.worker_counts: dict[str, dict[str, int]] = {}
        self.failure_log = FailureLog(log)
        self.timeline = Timeline()
        """Counts and fidelity over time (sampled on the master or local runner while a test runs)."""
        self.rows = RowBroker(environment)
        """The per-charge-point table."""
        self._printer: gevent.Greenlet | None = None
        self._printed_at = 0.0
        self._installed = False
        self._worker_kinds: dict[str, float] = {}
        self.target = ""
        """The CSMS base URL, for log lines about connection failures."""

    # ------------------------------------------------------------ counting

    def local_counts(self) -> dict[str, int]:
        """This process's counts, as they are now (kept current by the charge points: O(1))."""
        state = fleet_state(self.environment)
        counts = empty_counts()
        counts.update(state.counts)
        counts[STOPPED_KEY] = sum(state.calls_stopped.values())
        counts[UNSENT_KEY] = state.unsent_messages
        counts[OVERFLOW_KEY] = state.overflow_messages
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
        """This process's counts plus the latest of every live worker: its last state message (a
        few times a second, when the storms' conductor has one) or else its last stats report."""
        self.prune_workers()
        counts = self.local_counts()
        conductor = storms.conductor(self.environment)
        nodes = conductor.nodes if conductor is not None else {}
        for worker, report in list(self.worker_counts.items()):
            fresh = nodes.get(worker)
            if isinstance(fresh, dict) and isinstance(fresh.get("state_total"), int):
                report = {
                    **report,
                    **{name: fresh.get(f"state_{name}", 0) for name in ("total", *STATES)},
                }
            for key, value in report.items():
                if key in counts and isinstance(value, int):
                    counts[key] += value
        return counts

    def summary_rows(self) -> list[dict[str, Any]]:
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
        self._worker_kinds.clear()

    # ------------------------------------------------------------ over time

    def fidelity_reading(self) -> tuple[float | None, ...]:
        if self.fidelity is None:
            return (None, None, None, None)
        return fidelity_sample(self.fidelity.view())

    def start_timeline(self) -> None:
        """Sample the counts once a second (master or local runner, while a test runs)."""
        self.timeline.start(self.counts, self.fidelity_reading)

    def stop_timeline(self) -> None:
        """The last sample: the fleet as the test ends (before the charge points stop)."""
        if self.timeline.running:
            self.timeline.stop(final=self.counts())

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
        self.rows.install()

    def _on_report_to_master(self, client_id: str, data: dict[str, Any], **_: Any) -> None:
        data[REPORT_KEY] = self.local_counts()
        if self.fidelity is not None:
            data[FIDELITY_KEY] = self.fidelity.report()
        lines = self.failure_log.take_forwarded()
        if lines:
            data[LOG_KEY] = lines

    def _on_worker_report(self, client_id: str, data: dict[str, Any], **_: Any) -> None:
        report = data.get(REPORT_KEY)
        if isinstance(report, dict):
            self.worker_counts[client_id] = report
        if self.fidelity is not None:
            self.fidelity.receive(client_id, data.get(FIDELITY_KEY))
        lines = data.get(LOG_KEY)
        if isinstance(lines, list):
            self.log_worker_lines(lines)

    def log_worker_lines(self, lines: list[Any]) -> None:
        """Log the workers' failure lines: each kind once per :data:`LINE_WINDOW` for the whole fleet."""
        now = time.monotonic()
        for item in lines:
            if not isinstance(item, list | tuple) or len(item) != 3:
                continue
            kind, level, text = str(item[0]), item[1], str(item[2])
            logged = self._worker_kinds.get(kind)
            if logged is not None and now - logged < LINE_WINDOW:
                continue
            if logged is None and len(self._worker_kinds) >= MAX_KINDS:
                continue
            self._worker_kinds[kind] = now
            log.log(level if isinstance(level, int) else logging.WARNING, "%s", text)

    def _on_request(self, request_type: str, name: str, exception: BaseException | None = None, **_: Any) -> None:
        if exception is None:
            return
        # Once per kind with what the CSMS said, then rate-limited with a count (fleet/failure_log.py);
        # a worker's lines go to the master, which logs them once for the fleet.
        self.failure_log.target = self.target
        self.failure_log.forwarding = is_worker(self.environment.runner)
        self.failure_log.report(request_type, name, exception)

    # ------------------------------------------------------------ headless log

    def start_printer(self, interval: float = SUMMARY_INTERVAL) -> None:
        """Log the summary line every ``interval`` seconds until :meth:`stop_printer` (a test's end)."""
        if self._printer is not None and not self._printer.dead:
            return

        def loop() -> None:
            while True:
                gevent.sleep(interval)
                if time.monotonic() - self._printed_at >= interval / 2:  # (not right after another line)
                    self.print_summary()

        self._printer = gevent.spawn(loop)

    def print_summary(self, prefix: str = "") -> None:
        self._printed_at = time.monotonic()
        log.info("%s%s", prefix, self.summary())

    def print_stopped(self) -> None:
        """Once the run has stopped its charge points: the calls it stopped and the transaction
        messages their queues never delivered (neither is a CSMS failure). Printed after the users
        are gone (the ``test_stop`` event), when all of it has been counted; the end-of-test line
        comes before the charge points stop, so it cannot say it."""
        counts = self.counts()
        stopped = counts.get(STOPPED_KEY, 0)
        if stopped:
            line = f"fleet stopped: {stopped} call(s) stopped by the run (not CSMS failures)"
        else:
            line = "fleet stopped: every call was answered before its charge point stopped"
        lost = queue_losses(counts)
        log.info("%s", f"{line}; {lost}" if lost else line)

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


def _plain(error: Any) -> str:
    """``TransportError('connection refused')`` -> ``connection refused``."""
    if isinstance(error, BaseException):
        return str(error)
    text = str(error)
    head, sep, rest = text.partition("(")
    if sep and head.isidentifier() and rest.endswith(")") and len(rest) >= 3 and rest[0] in "'\"":
        return rest[1:-2]
    return text
