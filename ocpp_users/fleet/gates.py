"""CI gates: limits checked when the run quits; a breach fails the build by itself.

The same ``quitting`` listener writes the end-of-run files once the checks are made:
``--json-summary``, ``--cp-csv`` and the fleet's sections of the ``--html`` report
(:mod:`ocpp_users.fleet.report`).

    locust -f locustfiles/fleet.py --headless -u 200 -r 20 -t 5m \\
        --max-failure-ratio 0.01 --max-p95 800,BootNotification=2000 --max-p99 '*=5000' \\
        --min-boot-acceptance 1 --max-time-to-all-booted 30 --json-summary out/summary.json

Every limit has a ``LOCUST_...`` environment variable. The checks run in the ``quitting`` event
on the master (or the local runner), on the stats merged from all workers. Each breach prints
``CHECK FAILED: ...`` and the process exits with :data:`GATE_EXIT_CODE`; when every configured
check passes the exit code is 0 even if some requests failed (that is what
``--max-failure-ratio`` is for). Without any limit, Locust's own exit code rules apply.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from locust.env import Environment
from locust.event import Events
from locust.stats import RequestStats, StatsEntry

from ocpp_users.fleet import storms, summary
from ocpp_users.fleet.optiontable import Option, OptionGroup, add_group
from ocpp_users.fleet.runners import is_worker, runner_of

log = logging.getLogger("ocpp_users.gates")

CHECKS_ATTR = "vocpp_checks"
"""Where the checks made when the run ended are kept on the Environment."""
GATE_EXIT_CODE = 3
"""Exit code of a run whose gates failed (Locust uses 1 for "some request failed", 2 for errors)."""
OVERALL = ""
"""Key of the overall (Aggregated) limit in a latency spec."""
EVERY = "*"


@dataclass(frozen=True)
class Check:
    """One evaluated limit."""

    name: str
    limit: str
    actual: str
    passed: bool

    @property
    def line(self) -> str:
        if self.passed:
            return f"CHECK PASSED: {self.name}: {self.actual} (limit {self.limit})"
        return f"CHECK FAILED: {self.name}: {self.actual} (limit {self.limit})"

    def to_json(self) -> dict[str, Any]:
        return {"check": self.name, "limit": self.limit, "actual": self.actual, "passed": self.passed}


# ---------------------------------------------------------------- option values


def parse_ratio(text: Any) -> float:
    try:
        value = float(str(text).strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a ratio between 0 and 1, not {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a ratio between 0 and 1, not {text!r}")
    return value


def parse_seconds(text: Any) -> float:
    try:
        value = float(str(text).strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, not {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"expected seconds (0 or more), not {text!r}")
    return value


def parse_latency_spec(text: Any) -> dict[str, float]:
    """``800`` (overall), ``BootNotification=2000`` (every entry of that name), ``*=5000`` (each
    entry on its own); comma-separated. Values in milliseconds."""
    limits: dict[str, float] = {}
    for item in str(text).split(","):
        item = item.strip()
        if not item:
            continue
        name, sep, value = item.rpartition("=")
        name = name.strip() if sep else OVERALL
        try:
            ms = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected MS or NAME=MS (e.g. 800,BootNotification=2000,*=5000), not {item!r}"
            ) from None
        if not math.isfinite(ms) or ms <= 0:
            raise argparse.ArgumentTypeError(f"a latency limit must be a positive number of ms, not {item!r}")
        if sep and not name:
            raise argparse.ArgumentTypeError(f"missing action name before '=' in {item!r}")
        limits[name] = ms
    if not limits:
        raise argparse.ArgumentTypeError("no limit given")
    return limits


def _keeps_text(parse: Callable[[Any], object], name: str) -> Callable[[str], str]:
    """An argparse ``type`` that checks the value (a bad one ends Locust with one ``error:`` line,
    exit code 2) but keeps the text, so that the web UI can edit it as text."""

    def check(text: str) -> str:
        if str(text).strip():
            parse(text)
        return text

    check.__name__ = name
    return check


LIMITS: dict[str, tuple[str, Callable[[Any], Any], str]] = {
    "max_failure_ratio": (
        "RATIO",
        parse_ratio,
        "fail when more than RATIO (0..1) of all requests failed (the disconnects a storm causes on purpose "
        "are the run's own doing and never failures)",
    ),
    "max_p95": (
        "SPEC",
        parse_latency_spec,
        "95th percentile limits in ms: MS overall, NAME=MS per action (e.g. BootNotification=2000), *=MS for "
        "every action on its own; comma-separated",
    ),
    "max_p99": ("SPEC", parse_latency_spec, "99th percentile limits in ms, as --max-p95"),
    "min_boot_acceptance": (
        "RATIO",
        parse_ratio,
        "fail when less than RATIO of the charge points that sent BootNotification became Accepted",
    ),
    "max_time_to_all_booted": (
        "S",
        parse_seconds,
        "fail unless every charge point was Accepted within S seconds (from a boot storm's broadcast, else from "
        "the start of the test)",
    ),
    "max_time_to_all_back": (
        "S",
        parse_seconds,
        "fail when a reconnect storm (or rolling restart wave) took longer than S seconds until every charge "
        "point was connected again",
    ),
}
"""dest -> (metavar, parser, help) of every gate option."""


def option_flag(dest: str) -> str:
    return "--" + dest.replace("_", "-")


LABELS = {
    "max_failure_ratio": "Max failure ratio (0..1)",
    "max_p95": "p95 limits (ms)",
    "max_p99": "p99 limits (ms)",
    "min_boot_acceptance": "Min boot acceptance (0..1)",
    "max_time_to_all_booted": "Max time until all booted (s)",
    "max_time_to_all_back": "Max time until all back (s)",
}


def options_group() -> OptionGroup:
    """The gate options and the end-of-run files, each with a LOCUST_ environment variable."""
    limits = tuple(
        Option(
            option_flag(dest),
            help_text,
            metavar=metavar,
            type=_keeps_text(parse, option_flag(dest)[2:]),
            label=LABELS.get(dest, ""),
        )
        for dest, (metavar, parse, help_text) in LIMITS.items()
    )
    summary = Option(
        "--json-summary",
        "write a JSON summary (stats per action, fleet counts, load shape figures, checks, exit code) to FILE "
        "when the run ends",
        metavar="FILE",
        label="JSON summary file",
    )
    table = Option(
        "--cp-csv",
        "write the per-charge-point table (id, state, connected since, last message, calls ok and failed, last "
        "failure; every charge point as the test ended, at most 20,000 per worker) to FILE as CSV when the run ends",
        metavar="FILE",
        label="Charge points CSV file",
    )
    return OptionGroup(
        "CI gates and reports",
        f"Limits checked when the run ends: each breach prints CHECK FAILED and the exit code is {GATE_EXIT_CODE}. "
        "Files written when the run ends.",
        (*limits, summary, table),
    )


def register(parser: argparse.ArgumentParser) -> None:
    """The gate options (the ``init_command_line_parser`` event)."""
    add_group(parser, options_group())


def limit(options: argparse.Namespace | None, dest: str) -> Any:
    """The parsed limit, or None when unset (values may be text: the web UI edits them as text)."""
    value = getattr(options, dest, None) if options is not None else None
    if value is None or not str(value).strip():
        return None
    return LIMITS[dest][1](value)


# ---------------------------------------------------------------- evaluation


def configured(options: argparse.Namespace | None) -> bool:
    return any(str(getattr(options, dest, "") or "").strip() for dest in LIMITS)


def _fmt_ms(value: float) -> str:
    return f"{value:g} ms"


def _entry_label(entry: StatsEntry) -> str:
    return f"{entry.method} {entry.name}"


def failure_ratio(stats: RequestStats) -> tuple[float, int, int]:
    """(ratio, failures, requests) over every row (round trips, the CSMS's calls, protocol errors).
    The disconnects a storm causes on purpose are not in the stats at all (the harness's doing)."""
    entries = list(stats.entries.values())
    failures = sum(entry.num_failures for entry in entries)
    requests = sum(entry.num_requests for entry in entries)
    if requests <= 0:
        return (1.0 if failures > 0 else 0.0), failures, requests
    return failures / requests, failures, requests


def _latency_checks(stats: RequestStats, option: str, percent: float, limits: dict[str, float]) -> list[Check]:
    checks: list[Check] = []
    label = f"p{round(percent * 100)}"
    entries = sorted(stats.entries.values(), key=lambda e: (e.method or "", e.name))
    for name, ms in limits.items():
        if name == OVERALL:
            targets = [stats.total]
        elif name == EVERY:
            targets = [e for e in entries if e.num_requests > e.num_none_requests]
        else:
            targets = [e for e in entries if e.name == name]
        if not targets or (name == OVERALL and stats.total.num_requests == 0):
            what = "any request" if name in (OVERALL, EVERY) else name
            checks.append(Check(f"{label} of {what} ({option})", _fmt_ms(ms), "no requests recorded", False))
            continue
        for entry in targets:
            value = float(entry.get_response_time_percentile(percent))
            what = "all requests" if entry is stats.total else _entry_label(entry)
            checks.append(Check(f"{label} of {what}", _fmt_ms(ms), _fmt_ms(value), value <= ms))
    return checks


def _storm_times(reports: list[dict[str, Any]], key: str) -> list[tuple[str, float | None]]:
    """(shape, seconds or None when incomplete) for every report that measured ``key``."""
    out = []
    for report in reports:
        figures = report.get("figures") or {}
        if key in figures:
            value = figures[key]
            out.append((str(report.get("shape")), float(value) if isinstance(value, int | float) else None))
    return out


def evaluate(environment: Environment) -> list[Check]:
    """Every configured check, on the merged stats (master) or the local stats."""
    options = environment.parsed_options
    stats: RequestStats = runner_of(environment).stats
    fleet = storms.final_fleet(environment) or {}
    master = storms.conductor(environment)
    reports = master.reports if master is not None else []
    checks: list[Check] = []

    ratio_limit = limit(options, "max_failure_ratio")
    if ratio_limit is not None:
        ratio, failures, requests = failure_ratio(stats)
        checks.append(
            Check(
                "failure ratio",
                f"{ratio_limit:g}",
                f"{ratio:.4f} ({failures} of {requests} requests)",
                ratio <= ratio_limit,
            )
        )
    for dest, percent in (("max_p95", 0.95), ("max_p99", 0.99)):
        limits = limit(options, dest)
        if limits:
            checks.extend(_latency_checks(stats, option_flag(dest), percent, limits))

    acceptance = limit(options, "min_boot_acceptance")
    if acceptance is not None:
        attempted, accepted = int(fleet.get("attempted") or 0), int(fleet.get("accepted") or 0)
        if attempted == 0:
            checks.append(
                Check("boot acceptance", f">= {acceptance:g}", "no charge point sent BootNotification", False)
            )
        else:
            ratio = accepted / attempted
            actual = f"{ratio:.4f} ({accepted} of {attempted} charge points Accepted)"
            checks.append(Check("boot acceptance", f">= {acceptance:g}", actual, ratio >= acceptance))

    booted_limit = limit(options, "max_time_to_all_booted")
    if booted_limit is not None:
        storm = _storm_times(reports, "time_to_all_booted_s")
        for shape, seconds in storm:
            actual = f"{seconds:.3f} s" if seconds is not None else "not all booted"
            ok = seconds is not None and seconds <= booted_limit
            checks.append(Check(f"time until all booted ({shape})", f"{booted_limit:g} s", actual, ok))
        if not storm:
            checks.append(_fleet_boot_check(fleet, booted_limit))

    back_limit = limit(options, "max_time_to_all_back")
    if back_limit is not None:
        back = _storm_times(reports, "time_to_all_back_s")
        if not back:
            checks.append(Check("time until all back", f"{back_limit:g} s", "no reconnect storm ran", False))
        for shape, seconds in back:
            actual = f"{seconds:.3f} s" if seconds is not None else "not all reconnected"
            ok = seconds is not None and seconds <= back_limit
            checks.append(Check(f"time until all back ({shape})", f"{back_limit:g} s", actual, ok))
    return checks


def _fleet_boot_check(fleet: dict[str, Any], seconds: float) -> Check:
    peak, accepted = int(fleet.get("peak_users") or 0), int(fleet.get("accepted") or 0)
    last = fleet.get("last_accept")
    name, bound = "time until all booted", f"{seconds:g} s"
    if peak == 0:
        return Check(name, bound, "no charge point ran", False)
    if accepted < peak or not isinstance(last, int | float):
        return Check(name, bound, f"not all booted ({accepted} of {peak})", False)
    return Check(name, bound, f"{last:.3f} s since the start ({peak} charge points)", last <= seconds)


# ---------------------------------------------------------------- the quitting listener


def on_quitting(environment: Environment, **_: Any) -> None:
    """Print the load shapes' figures and the checks, set the exit code, write the JSON summary."""
    runner = environment.runner
    if runner is None or is_worker(runner):
        return
    options = environment.parsed_options
    out: Callable[[str], None] = _printer()
    master = storms.conductor(environment)
    for report in master.reports if master is not None else []:
        for line in report.get("lines") or []:
            out(line)
    checks: list[Check] = []
    if configured(options):
        try:
            checks = evaluate(environment)
        except Exception as exc:  # a gate that cannot be evaluated fails, it never passes silently
            checks = [Check("gate evaluation", "no error", f"error: {exc!r}", False)]
        for check in checks:
            out(check.line)
        failed = [c for c in checks if not c.passed]
        if failed:
            out(f"{len(failed)} of {len(checks)} checks FAILED (exit code {GATE_EXIT_CODE})")
            environment.process_exit_code = GATE_EXIT_CODE
        else:
            out(f"all {len(checks)} checks passed")
            if not _has_errors_besides_requests(environment):
                environment.process_exit_code = 0
    if checks:
        setattr(environment, CHECKS_ATTR, checks)  # (the HTML report's gate section)
    from ocpp_users.fleet import report as fleet_report  # late: it reads the runtime, which imports us

    fleet_report.finish(environment, checks if configured(options) else None)
    path = getattr(options, "json_summary", "") or ""
    if path:
        try:
            summary.write(path, environment, checks, gates=configured(options), exit_code=_exit_code(environment))
            log.info("JSON summary written to %s", path)
        except OSError as exc:
            log.error("cannot write the JSON summary %s: %s", path, exc.strerror or exc)


def _has_errors_besides_requests(environment: Environment) -> bool:
    """Unhandled exceptions in users or greenlets keep Locust's non-zero exit code."""
    from locust import log as locust_log

    return bool(runner_of(environment).exceptions) or bool(locust_log.unhandled_greenlet_exception)


def _exit_code(environment: Environment) -> int:
    """The exit code Locust will use (its own rules, unless a listener set one)."""
    from locust import log as locust_log

    if environment.process_exit_code is not None:
        return int(environment.process_exit_code)
    runner = runner_of(environment)
    if runner.errors or runner.exceptions:
        return int(getattr(environment.parsed_options, "exit_code_on_error", 1) or 1)
    if locust_log.unhandled_greenlet_exception:
        return 2
    return 0


def _printer() -> Callable[[str], None]:
    def out(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    return out


def install(events: Events) -> None:
    """Register the options and the quitting listener on ``events``; idempotent."""
    if getattr(events, "_vocpp_gates", False):
        return
    setattr(events, "_vocpp_gates", True)  # noqa: B010
    storms.install(events)
    events.init_command_line_parser.add_listener(lambda parser, **_: register(parser))
    events.quitting.add_listener(on_quitting)
