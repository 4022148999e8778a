"""Load shapes for the fleet: steady ramp, boot storm, reconnect storm, rolling restart, peak hour.

Pick one with ``--shape`` (env ``LOCUST_SHAPE``; the fleet loads this module, so
``locustfiles/fleet.py`` alone is enough)::

    locust -f locustfiles/fleet.py --shape boot-storm --headless -u 1000 -r 100
    locust -f locustfiles/fleet.py,locustfiles/shapes.py --class-picker     # the shapes by class name too

``-u`` is the number of charge points N, ``-r`` the rate they connect at, ``-t`` (optional) keeps the
fleet running until that time after the shape's own steps (it never cuts a storm short). With
``--class-picker`` the web UI offers the same shapes by class name. Each shape prints what it
measured when the run ends (and puts it in ``--json-summary``); see docs/distributed.md.

Importing this module registers the shape options and the ``--shape`` selection on Locust's global
events, as a locustfile's own listeners would (``locustfiles/shapes.py`` only imports the classes).
Without ``--shape``, the steady ramp runs when ``locustfiles/shapes.py`` is loaded, and Locust's
plain ``-u``/``-r`` otherwise; the web UI's form chooses the shape of each run.
"""

from __future__ import annotations

import argparse
import logging
import math
import time
from typing import Any, ClassVar

import gevent
from locust import LoadTestShape, events
from locust.env import Environment
from locust.event import Events
from locust.runners import Runner

from ocpp_users.fleet import gates, storms
from ocpp_users.fleet.optiontable import add_group
from ocpp_users.fleet.runners import is_worker
from ocpp_users.fleet.shape_options import SHAPE_OPTIONS, SHAPES, parse_jitters
from ocpp_users.fleet.storms import Conductor, RoundOutcome, describe_latency

log = logging.getLogger("ocpp_users.shapes")


# ---------------------------------------------------------------- options


def register(parser: argparse.ArgumentParser, **_: object) -> None:
    add_group(parser, SHAPE_OPTIONS)


def _loaded(environment: Environment) -> dict[str, LoadTestShape]:
    """Our shape classes among those Locust found in the locustfiles (``locustfiles/shapes.py``)."""
    available = environment.available_shape_classes or {}
    return {name: shape for name, shape in available.items() if name in SHAPES.values()}


def select_shape(environment: Environment, runner: Runner | None = None, **_: Any) -> None:
    """Make ``--shape`` the active shape class (Locust itself would take the first one defined).

    Without ``--shape`` the steady ramp when ``locustfiles/shapes.py`` is loaded, else none (the
    chosen one is written back to the options, so that the web UI's form shows it). A shape named
    while only ``locustfiles/fleet.py`` is loaded is made here."""
    options = environment.parsed_options
    if options is None or not hasattr(options, "shape") or is_worker(runner):
        return
    name = options.shape
    loaded = _loaded(environment)
    if not name:
        name = "steady" if loaded else "none"
        options.shape = name
    if name == "none":
        environment.shape_class = None
        return
    shape = loaded.get(SHAPES[name])
    if shape is None:  # only fleet.py was given: a shape of our own, as shapes.py would have made it
        shape = CLASSES[SHAPES[name]]()
    shape.runner = runner
    environment.shape_class = shape


# ---------------------------------------------------------------- the shapes


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f} s"


class FleetShape(LoadTestShape):
    """A shape as a script: ``run()`` (in its own greenlet) sets the user count and waits on the
    fleet's counts and storm results; ``tick()`` hands Locust the current target until it ends."""

    abstract = True
    use_common_options = True
    label: ClassVar[str] = ""

    def __init__(self) -> None:
        super().__init__()
        self._greenlet: Any = None
        self._target: tuple[int, float] = (0, 1.0)
        self._listening = False
        self.t0 = time.monotonic()

    # ------------------------------------------------------------ Locust's side

    def reset_time(self) -> None:
        """Locust calls this when a shape run starts (and a master again on its first spawn, while
        the script already runs): a finished script is forgotten so that the next tick starts anew."""
        super().reset_time()
        if self._greenlet is not None and self._greenlet.dead:
            self._greenlet = None

    def tick(self) -> tuple[int, float] | None:
        if self._greenlet is None:
            self._begin()
        if self._greenlet.dead:
            return None
        return self._target

    def _begin(self) -> None:
        self.t0 = time.monotonic()
        environment = self.environment
        if not self._listening:
            self._listening = True
            environment.events.test_stopping.add_listener(lambda **_: self._kill())
        self.prepare()
        self._greenlet = gevent.spawn(self._run_guarded)

    def _kill(self) -> None:
        greenlet, self._greenlet = self._greenlet, None
        if greenlet is not None and not greenlet.dead and greenlet is not gevent.getcurrent():
            greenlet.kill(block=False)

    def _run_guarded(self) -> None:
        try:
            self.run()
            self.keep_running()
        except Exception as exc:
            log.error("load shape %s failed: %r", self.label, exc)
            self.report([f"Load shape {self.label}: FAILED: {exc!r}"], {"error": repr(exc)})

    # ------------------------------------------------------------ for the scripts

    @property
    def environment(self) -> Any:
        assert self.runner is not None
        return self.runner.environment

    @property
    def options(self) -> Any:
        return self.environment.parsed_options

    @property
    def conductor(self) -> Conductor:
        master = storms.conductor(self.environment)
        if master is None:
            raise RuntimeError("the storm machinery is not installed (ocpp_users.storms)")
        return master

    @property
    def n(self) -> int:
        return max(1, int(getattr(self.options, "num_users", None) or 1))

    @property
    def rate(self) -> float:
        return float(getattr(self.options, "spawn_rate", None) or 1.0)

    def opt(self, name: str, default: Any) -> Any:
        value = getattr(self.options, name, None)
        return default if value is None or value == "" else value

    @property
    def timeout(self) -> float:
        return float(self.opt("storm_timeout", 60.0))

    @property
    def hold(self) -> float:
        return float(self.opt("storm_hold", 2.0))

    def elapsed(self) -> float:
        return time.monotonic() - self.t0

    def users(self, count: int, rate: float | None = None) -> None:
        self._target = (count, rate or self.rate)

    def sleep(self, seconds: float) -> None:
        gevent.sleep(max(0.0, seconds))

    def ramp_and_wait(self, what: str) -> tuple[bool, float]:
        """Ramp to N and wait until the fleet counts ``what`` (connected/booted) reach N."""
        n = self.n
        self.users(n)
        limit = n / self.rate + self.timeout
        ok = self.conductor.wait_for(lambda fleet: fleet[what] >= n, limit)
        if not ok:
            log.warning(
                "load shape %s: only %d of %d charge points %s within %.0f s (-u / -r + --storm-timeout)",
                self.label,
                self.conductor.fleet()[what],
                n,
                what,
                limit,
            )
        return ok, self.elapsed()

    def keep_running(self) -> None:
        """Hold the fleet until ``-t`` since the start, when given."""
        run_time = getattr(self.options, "run_time", None)
        if run_time:
            self.sleep(float(run_time) - self.elapsed())

    def report(self, lines: list[str], figures: dict[str, Any]) -> None:
        self.conductor.report(self.label, lines, {"shape": self.label, **figures})

    def prepare(self) -> None:
        """Runs in the first tick, before any user starts."""
        self.users(self.n)

    def run(self) -> None:
        raise NotImplementedError


def _replay_line(outcome: RoundOutcome) -> list[str]:
    """How many transaction messages were queued offline and replayed (delivered, and given up after
    TransactionMessageAttempts: lost), and how fast (none when the round queued nothing)."""
    extra = outcome.extra
    if not extra.get("queued") and not extra.get("replayed"):
        return []
    span = extra.get("replay_s")
    rate = extra.get("replay_per_s")
    pace = f" in {span:.2f} s ({rate:g}/s)" if span and rate else ""
    given_up = extra.get("given_up", 0)
    lost = f" ({given_up} given up after TransactionMessageAttempts: lost)" if given_up else ""
    left = f"; {extra['left']} still queued" if extra.get("left") else ""
    if extra.get("overflow"):
        left += f"; {extra['overflow']} MeterValues dropped, the queue full"
    doubt = extra.get("in_doubt", 0)
    if doubt:
        left += f"; {doubt} were in flight at the drop and went again"
    behind = extra["queued"] - extra.get("offline", 0)
    waited = f" (and {behind} that waited behind them)" if behind > 0 else ""
    return [
        f"queued offline: {extra.get('offline', 0)} transaction messages{waited}; "
        f"replayed {extra['replayed']}{pace}: delivered {extra.get('delivered', extra['replayed'] - given_up)}"
        f"{lost}{left}"
    ]


def _storm_lines(outcome: RoundOutcome, what: str) -> list[str]:
    """'all N back after ...' plus latency and failures, for one storm round."""
    lines = []
    if outcome.complete:
        lines.append(
            f"time until all {outcome.n} {what}: {_s(outcome.duration)} (slowest worker; {_s(outcome.master_duration)} "
            f"at the master, messaging included); first after {_s(outcome.first)}; peak "
            f"{outcome.peak_per_s or 0:g}/s"
        )
    else:
        lines.append(
            f"NOT all {what}: {outcome.done} of {outcome.n} (workers answered {outcome.answered} of {outcome.nodes})"
        )
    primary = outcome.latency()
    lines.append(
        describe_latency(f"{' '.join(storms.PRIMARY[outcome.kind])} latency during the storm", primary.figures())
    )
    failed = sum(outcome.failures.values())
    if failed:
        worst = ", ".join(f"{reason} x{count}" for reason, count in outcome.failures.most_common(3))
        lines.append(f"failures during the storm: {failed} ({worst})")
    else:
        lines.append("failures during the storm: 0")
    lines.extend(_replay_line(outcome))
    return lines


class SteadyRamp(FleetShape):
    """Ramp to N charge points at the spawn rate and hold them (until -t)."""

    label = "steady"

    def run(self) -> None:
        _, ramp_s = self.ramp_and_wait("users")
        booted, _ = self.ramp_and_wait("booted")
        fleet = self.conductor.fleet()
        all_booted = fleet["last_accept"] if booted else None
        self.report(
            [
                f"Load shape steady: ramp to {self.n} charge points at {self.rate:g}/s",
                f"  {fleet['users']} users running after {ramp_s:.1f} s; "
                + (
                    f"all {self.n} booted {_s(all_booted)} after the start"
                    if booted
                    else f"NOT all booted: {fleet['booted']} of {self.n}"
                ),
            ],
            {
                "charge_points": self.n,
                "spawn_rate": self.rate,
                "ramp_s": round(ramp_s, 3),
                "time_to_all_booted_s": round(all_booted, 3) if all_booted is not None else None,
            },
        )


class BootStorm(FleetShape):
    """N charge points connect and are held; then one broadcast makes all of them boot at once."""

    label = "boot-storm"

    def prepare(self) -> None:
        self.conductor.hold_boots()  # before the first user starts
        super().prepare()

    def run(self) -> None:
        master = self.conductor
        connected, connect_s = self.ramp_and_wait("connected")
        held = master.fleet()["connected"]
        self.sleep(self.hold)
        round_id = master.broadcast("boot", timeout=self.timeout)
        outcome = master.wait_round(round_id, self.timeout + 10)
        self.sleep(self.hold)
        self.report(
            [
                f"Boot storm: {held} of {self.n} charge points connected and held "
                f"({'all' if connected else 'NOT all'} connected after {connect_s:.1f} s), then every "
                f"BootNotification released at once on {outcome.nodes} worker(s)",
                *("  " + line for line in _storm_lines(outcome, "booted")),
            ],
            {
                "charge_points": self.n,
                "connected_before_storm": held,
                "time_to_all_connected_s": round(connect_s, 3) if connected else None,
                "time_to_all_booted_s": _r(outcome.duration) if outcome.complete else None,
                "storm": outcome.figures(),
            },
        )


class ReconnectStorm(FleetShape):
    """The whole fleet drops its connections at once (a CSMS restart) and reconnects with the
    engine's backoff; one round per --storm-jitter value, worst case first (jitter 0)."""

    label = "reconnect-storm"

    def run(self) -> None:
        master = self.conductor
        booted, booted_s = self.ramp_and_wait("booted")
        self.sleep(self.hold)
        lines = [
            f"Reconnect storm: {master.fleet()['connected']} of {self.n} charge points connected "
            f"({'all' if booted else 'NOT all'} booted after {booted_s:.1f} s); every connection dropped at once"
        ]
        rounds = []
        outage = float(self.opt("storm_outage", 0.0))
        if outage:
            lines[0] += f", then kept offline for {outage:g} s"
        for jitter in parse_jitters(str(self.opt("storm_jitter", "0,0.5"))):
            round_id = master.broadcast("drop", jitter=jitter, outage=outage, timeout=self.timeout + outage)
            outcome = master.wait_round(round_id, self.timeout + outage + 10)
            rounds.append({"jitter": jitter, **outcome.figures()})
            lines.append(f"  backoff jitter {jitter:g}:")
            lines.extend("    " + line for line in _storm_lines(outcome, "back"))
            self.sleep(self.hold)
        times = [r["duration_s"] for r in rounds]
        worst = max(rounds, key=lambda r: r["duration_s"] if r["duration_s"] is not None else math.inf)
        lines.append(f"  worst case: jitter {worst['jitter']:g} ({_s(worst['duration_s'])})")
        self.report(
            lines,
            {
                "charge_points": self.n,
                "time_to_all_back_s": None if any(t is None for t in times) else max(times),
                "rounds": rounds,
            },
        )


class RollingRestart(FleetShape):
    """The fleet drops in K waves one after another, as when K CSMS nodes restart in turn."""

    label = "rolling-restart"

    def run(self) -> None:
        master = self.conductor
        waves = int(self.opt("restart_waves", 4))
        booted, booted_s = self.ramp_and_wait("booted")
        self.sleep(self.hold)
        lines = [
            f"Rolling restart: {self.n} charge points in {waves} waves "
            f"({'all' if booted else 'NOT all'} booted after {booted_s:.1f} s)"
        ]
        rounds = []
        started = time.monotonic()
        outage = float(self.opt("storm_outage", 0.0))
        for wave in range(waves):
            round_id = master.broadcast("drop", wave=wave, waves=waves, outage=outage, timeout=self.timeout + outage)
            outcome = master.wait_round(round_id, self.timeout + outage + 10)
            rounds.append({"wave": wave + 1, **outcome.figures()})
            lines.append(f"  wave {wave + 1} of {waves}:")
            lines.extend("    " + line for line in _storm_lines(outcome, "back"))
            self.sleep(self.hold)
        times = [r["duration_s"] for r in rounds]
        total = time.monotonic() - started
        lines.append(f"  all waves done after {total:.1f} s")
        self.report(
            lines,
            {
                "charge_points": self.n,
                "waves": waves,
                "total_s": round(total, 3),
                "time_to_all_back_s": None if any(t is None for t in times) else max(times),
                "rounds": rounds,
            },
        )


class PeakHour(FleetShape):
    """A set fraction of the fleet charging at once for --peak-duration seconds."""

    label = "peak-hour"

    def run(self) -> None:
        master = self.conductor
        fraction = float(self.opt("peak_fraction", 0.3))
        duration = float(self.opt("peak_duration", 30.0))
        booted, booted_s = self.ramp_and_wait("booted")
        self.sleep(self.hold)
        round_id = master.broadcast("charge", fraction=fraction, duration=duration, timeout=self.timeout)
        sent = time.monotonic()
        samples: list[int] = []
        while time.monotonic() - sent < duration:
            samples.append(int(master.fleet()["charging"]))
            self.sleep(0.5)
        outcome = master.wait_round(round_id, self.timeout + 10)
        answers = list(master.results.get(round_id, {}).values())
        target = sum(int(a.get("target") or 0) for a in answers)
        reached = outcome.duration if outcome.complete else None
        steady = samples[len(samples) // 4 :] or samples
        lines = [
            f"Peak hour: {fraction:g} of {self.n} charge points = {target} charging for {duration:g} s "
            f"({'all' if booted else 'NOT all'} booted after {booted_s:.1f} s)",
            f"  target reached after {_s(reached)}" if reached is not None else "  target NOT reached",
            f"  charging during the peak (master samples): min {min(steady, default=0)}, max {max(samples, default=0)}",
        ]
        for name in ("Authorize", "StartTransaction", "MeterValues", "StopTransaction"):
            hist = outcome.latency(f"{storms.CP_TO_CSMS} {name}")
            lines.append("  " + describe_latency(f"{name} latency", hist.figures()))
        failed = sum(outcome.failures.values())
        lines.append(f"  failures during the peak: {failed}")
        self.report(
            lines,
            {
                "charge_points": self.n,
                "fraction": fraction,
                "target": target,
                "duration_s": duration,
                "time_to_target_s": _r(reached),
                "charging_min": min(steady, default=0),
                "charging_max": max(samples, default=0),
                "storm": outcome.figures(),
            },
        )


CLASSES: dict[str, type[FleetShape]] = {
    cls.__name__: cls for cls in (SteadyRamp, BootStorm, ReconnectStorm, RollingRestart, PeakHour)
}
"""Class name -> class, for a ``--shape`` given without ``locustfiles/shapes.py``."""


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def install(events: Events) -> None:
    """Register the shape options, the ``--shape`` selection and the CI gates on ``events``."""
    events.init_command_line_parser.add_listener(register)
    events.init.add_listener(select_shape)
    gates.install(events)


install(events)
