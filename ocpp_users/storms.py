"""Storms across Locust processes: one broadcast makes every charge point of every worker act at once.

A spawn rate cannot synchronise a fleet: users start one after another. A storm is a Locust
custom message from the master (``runner.send_message``) that each worker handles for all of
its charge points in the same instant:

``hold``   charge points that connect from now on wait before their BootNotification;
``boot``   release them all at once (boot storm);
``drop``   drop every connection (or one wave of them) as a CSMS restart does; the engine
           reconnects with its backoff (reconnect storm, rolling restart);
``charge`` keep a fraction of the charge points charging (peak hour).

Each worker then watches its own charge points until all of them are done (booted, back,
charging) and answers with one result message: how long it took from the broadcast, measured on
the worker's own clock (no clock skew between machines), and the latencies of the calls made
during the storm as a mergeable histogram. Workers also send their fleet counts a few times a
second so that the master's load shape can wait for "all connected" or "all booted".

On a local runner the same code runs in one process: ``send_message`` calls the handlers directly.
"""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import gevent
import gevent.event

from . import schemas
from .actions import CP_INITIATED
from .sink import CP_TO_CSMS, WEBSOCKET

log = logging.getLogger("ocpp_users.storms")

MSG_COMMAND = "vocpp_storm"
"""master -> workers: ``{"kind": ..., "round": n, ...}``."""
MSG_RESULT = "vocpp_storm_result"
"""worker -> master: the outcome of one round on that worker."""
MSG_STATE = "vocpp_fleet_state"
"""worker -> master: that worker's fleet counts (a few times a second, when they change)."""
STATE_INTERVAL = 0.25
STATE_REFRESH = 2.0
"""Counts are re-sent at least this often even when unchanged."""
PRIMARY = {
    "boot": (CP_TO_CSMS, "BootNotification"),
    "drop": (WEBSOCKET, "reconnect"),
    "charge": (CP_TO_CSMS, "StartTransaction"),
}
"""The call whose latency characterises each kind of storm."""
ATTR = "_vocpp_storms"


# ---------------------------------------------------------------- histogram


def bucket(ms: float) -> int:
    """Locust's rounding of response times: exact below 100 ms, 2 significant digits above."""
    if ms < 100:
        return round(ms)
    digits = int(math.log10(ms)) - 1
    return int(round(ms, -digits))


@dataclass
class Histogram:
    """Response times in ms, bucketed as Locust does, so that workers' histograms can be summed."""

    counts: Counter[int] = field(default_factory=Counter)
    low: float | None = None
    high: float | None = None
    total: float = 0.0

    def add(self, ms: float) -> None:
        self.counts[bucket(ms)] += 1
        self.low = ms if self.low is None else min(self.low, ms)
        self.high = ms if self.high is None else max(self.high, ms)
        self.total += ms

    @property
    def count(self) -> int:
        return sum(self.counts.values())

    def percentile(self, fraction: float) -> float | None:
        """The smallest bucket that at least ``fraction`` of the samples do not exceed."""
        n = self.count
        if n == 0:
            return None
        rank = max(1, math.ceil(fraction * n))
        seen = 0
        for value in sorted(self.counts):
            seen += self.counts[value]
            if seen >= rank:
                return float(value)
        return float(max(self.counts))

    def merge(self, other: Histogram) -> None:
        self.counts.update(other.counts)
        if other.low is not None:
            self.low = other.low if self.low is None else min(self.low, other.low)
        if other.high is not None:
            self.high = other.high if self.high is None else max(self.high, other.high)
        self.total += other.total

    def to_wire(self) -> dict[str, Any]:
        """A msgpack-friendly form (no int map keys)."""
        return {
            "counts": [[k, v] for k, v in sorted(self.counts.items())],
            "low": self.low,
            "high": self.high,
            "total": self.total,
        }

    @classmethod
    def from_wire(cls, data: Any) -> Histogram:
        hist = cls()
        if isinstance(data, dict):
            for pair in data.get("counts") or []:
                hist.counts[int(pair[0])] += int(pair[1])
            hist.low, hist.high = data.get("low"), data.get("high")
            hist.total = float(data.get("total") or 0.0)
        return hist

    def figures(self) -> dict[str, Any]:
        """count, min, avg, p50, p90, p95, p99, max (ms), for reports and the JSON summary."""
        n = self.count
        return {
            "count": n,
            "min_ms": _round(self.low),
            "avg_ms": _round(self.total / n) if n else None,
            "p50_ms": self.percentile(0.50),
            "p90_ms": self.percentile(0.90),
            "p95_ms": self.percentile(0.95),
            "p99_ms": self.percentile(0.99),
            "max_ms": _round(self.high),
        }


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def describe_latency(name: str, figures: dict[str, Any]) -> str:
    if not figures.get("count"):
        return f"{name}: no calls"
    return (
        f"{name}: n={figures['count']} min {figures['min_ms']:g} p50 {figures['p50_ms']:g} "
        f"p90 {figures['p90_ms']:g} p95 {figures['p95_ms']:g} p99 {figures['p99_ms']:g} max {figures['max_ms']:g} ms"
    )


# ---------------------------------------------------------------- the charge points of this process


def members(runner: Any) -> list[tuple[Any, Any]]:
    """(user, charge point) of every running user of this process that has built its charge point.

    Locust keeps its users' greenlets in ``runner.user_greenlets`` with the user as ``args[0]``.
    """
    out = []
    for greenlet in list(getattr(runner, "user_greenlets", None) or ()):
        args = getattr(greenlet, "args", None)
        user = args[0] if args else None
        cp = getattr(user, "cp", None)
        if cp is not None and not cp.stopping:
            out.append((user, cp))
    return out


def charging(cp: Any) -> bool:
    return any(c.charging for cid, c in cp.connectors.items() if cid > 0)


@dataclass
class Window:
    """The request events of this process during one storm round."""

    kind: str
    started: float
    latencies: dict[str, Histogram] = field(default_factory=dict)
    failures: Counter[str] = field(default_factory=Counter)
    first_ok: float | None = None
    last_ok: float | None = None
    """When the last successful primary call (BootNotification, reconnect, ...) completed."""

    def record(self, request_type: str, name: str, response_time: float, exception: BaseException | None) -> None:
        key = f"{request_type} {name}"
        if exception is not None:
            if not (request_type == WEBSOCKET and name == "disconnect" and self.kind == "drop"):
                self.failures[f"{key}: {exception}"] += 1
            return
        self.latencies.setdefault(key, Histogram()).add(response_time)
        if (request_type, name) == PRIMARY.get(self.kind):
            self.last_ok = time.monotonic()
            if self.first_ok is None:
                self.first_ok = self.last_ok


class LocalFleet:
    """The storm side of a load-generating process (a worker, or the local runner)."""

    def __init__(self, environment: Any) -> None:
        self.environment = environment
        self.gate = gevent.event.Event()
        """Open unless a boot storm holds BootNotifications back."""
        self.gate.set()
        self.attempted: set[str] = set()
        """Charge point ids that sent a BootNotification during this run."""
        self.accepted: set[str] = set()
        """Charge point ids whose registration became Accepted during this run."""
        self.last_accept: float | None = None
        """Seconds from the test start to the first Accepted of the charge point that booted last."""
        self.deliberate_drops = 0
        """Connections dropped by a storm on purpose (their ``disconnect`` failures are expected)."""
        self.max_users = 0
        self.last_boot_ok: float | None = None
        self.window: Window | None = None
        self.t0 = time.monotonic()
        self._sampler: gevent.Greenlet | None = None
        self._rounds: list[gevent.Greenlet] = []
        self._last_sent: tuple[Any, ...] = ()
        self._last_sent_at = 0.0

    # ------------------------------------------------------------ run life cycle

    def start_run(self) -> None:
        self.attempted.clear()
        self.accepted.clear()
        self.last_accept = None
        self.last_boot_ok = None
        self.deliberate_drops = 0
        self.max_users = 0
        self.t0 = time.monotonic()
        if self._sampler is None or self._sampler.dead:
            self._sampler = gevent.spawn(self._sample_loop)

    def stop_run(self) -> None:
        self.gate.set()
        for greenlet in self._rounds:
            greenlet.kill(block=False)
        self._rounds.clear()
        self.window = None

    # ------------------------------------------------------------ counts

    def snapshot(self) -> dict[str, Any]:
        """This process's counts; cumulative ones (attempted, accepted) survive users stopping."""
        now = time.monotonic()
        users = connected = booted = charging_now = holding = 0
        for _user, cp in members(self.environment.runner):
            users += 1
            if cp.connected:
                connected += 1
                if cp.registration is None and not self.gate.is_set():
                    holding += 1
            if cp.registration is not None:
                self.attempted.add(cp.cp_id)
            if cp.registration == "Accepted":
                booted += 1
                if cp.cp_id not in self.accepted:
                    self.accepted.add(cp.cp_id)
                    # sampled every 0.25 s; the last successful BootNotification dates it exactly
                    at = self.last_boot_ok if self.last_boot_ok is not None and self.last_boot_ok <= now else now
                    self.last_accept = max(0.0, at - self.t0)
            if charging(cp):
                charging_now += 1
        self.max_users = max(self.max_users, users)
        return {
            "users": users,
            "connected": connected,
            "booted": booted,
            "charging": charging_now,
            "holding": holding,
            "attempted": len(self.attempted),
            "accepted": len(self.accepted),
            "last_accept": self.last_accept,
            "max_users": self.max_users,
            "deliberate_drops": self.deliberate_drops,
        }

    def _sample_loop(self) -> None:
        while True:
            gevent.sleep(STATE_INTERVAL)
            self.send_state()

    def send_state(self, force: bool = False) -> None:
        runner = self.environment.runner
        if runner is None:
            return
        state = self.snapshot()
        key = tuple(sorted(state.items()))
        now = time.monotonic()
        if not force and key == self._last_sent and now - self._last_sent_at < STATE_REFRESH:
            return
        self._last_sent, self._last_sent_at = key, now
        try:
            runner.send_message(MSG_STATE, state)
        except Exception as exc:  # the master is gone: nothing to report to
            log.debug("cannot send fleet state: %r", exc)

    def on_request(self, request_type: str, name: str, response_time: float, exception: BaseException | None) -> None:
        if exception is None and name == "BootNotification" and request_type == CP_TO_CSMS:
            self.last_boot_ok = time.monotonic()
        window = self.window
        if window is not None:
            window.record(request_type, name, response_time, exception)

    # ------------------------------------------------------------ commands

    def on_command(self, data: dict[str, Any]) -> None:
        kind = data.get("kind")
        if kind == "hold":
            self.gate.clear()
            return
        if kind == "release":
            self.gate.set()
            return
        if kind not in PRIMARY:
            log.warning("unknown storm command %r ignored", kind)
            return
        greenlet = gevent.spawn(self._run_round, dict(data))
        self._rounds = [g for g in self._rounds if not g.dead] + [greenlet]

    def _run_round(self, command: dict[str, Any]) -> None:
        kind = str(command["kind"])
        started = time.monotonic()
        window = self.window = Window(kind, started)
        try:
            if kind == "charge":
                result = self._charge(command, window)
            else:
                result = self._storm(command, window)
        except Exception as exc:  # a bug here must not kill the worker silently
            log.error("storm %s failed on this worker: %r", kind, exc)
            result = {"n": 0, "done": 0, "complete": False, "error": repr(exc)}
        finally:
            if self.window is window:
                self.window = None
        result.update(
            kind=kind,
            round=command.get("round"),
            latencies={key: hist.to_wire() for key, hist in window.latencies.items()},
            failures=dict(window.failures),
        )
        self.send_state(force=True)
        self.environment.runner.send_message(MSG_RESULT, result)

    def _storm(self, command: dict[str, Any], window: Window) -> dict[str, Any]:
        kind = window.kind
        timeout = float(command.get("timeout") or 60.0)
        fleet = sorted(members(self.environment.runner), key=lambda pair: str(pair[1].cp_id))
        saved: dict[str, float] = {}
        done: Callable[[Any], bool]
        if kind == "boot":
            targets = [cp for _user, cp in fleet]
            self.gate.set()

            def done(cp: Any) -> bool:
                return cp.registration == "Accepted"

        else:
            waves = max(1, int(command.get("waves") or 1))
            wave = int(command.get("wave") or 0) % waves
            jitter = command.get("jitter")
            targets = [cp for _user, cp in fleet[wave::waves] if cp.connected]
            for cp in targets:
                if jitter is not None:
                    saved[cp.cp_id] = cp.settings.backoff_jitter
                    cp.settings.backoff_jitter = float(jitter)
                cp.drop()
                self.deliberate_drops += 1

            def done(cp: Any) -> bool:
                return bool(cp.connected)

        completions, pending = self._watch(targets, done, window.started, timeout)
        for cp in targets:
            if cp.cp_id in saved:
                cp.settings.backoff_jitter = saved[cp.cp_id]
        # completions are seen by polling (10 ms); the request events time the calls exactly
        duration = first = None
        if completions:
            first = completions[0]
            if window.first_ok is not None:
                first = min(first, window.first_ok - window.started)
        if not pending:
            duration = completions[-1] if completions else 0.0
            if window.last_ok is not None and completions:
                duration = min(duration, window.last_ok - window.started)
        return {
            "n": len(targets),
            "done": len(completions),
            "complete": not pending,
            "duration": duration,
            "first": first,
            "completions": _per_tenth(completions),
        }

    @staticmethod
    def _watch(
        targets: list[Any], done: Callable[[Any], bool], started: float, timeout: float
    ) -> tuple[list[float], list[Any]]:
        """Poll until every target is done (or stopped, or the timeout); completion times since start."""
        pending = list(targets)
        completions: list[float] = []
        deadline = started + timeout
        while pending:
            now = time.monotonic()
            still = []
            for cp in pending:
                if done(cp):
                    completions.append(now - started)
                elif not cp.stopping:
                    still.append(cp)
            pending = still
            if not pending or now >= deadline:
                break
            gevent.sleep(0.01 if len(pending) < 2000 else 0.05)
        return completions, pending

    def _charge(self, command: dict[str, Any], window: Window) -> dict[str, Any]:
        """Keep ``fraction`` of this process's charge points charging until ``duration`` is over."""
        fraction = float(command.get("fraction") or 0.0)
        duration = float(command.get("duration") or 0.0)
        grace = float(command.get("timeout") or 30.0)
        deadline = window.started + duration
        runner = self.environment.runner
        reached: float | None = None
        low: int | None = None
        high: int | None = None
        target = 0
        sessions: list[gevent.Greenlet] = []
        while True:
            now = time.monotonic()
            fleet = members(runner)
            target = math.ceil(fraction * len(fleet) - 1e-9)
            busy = {id(cp) for _user, cp in fleet if charging(cp) or _session_running(cp)}
            now_charging = sum(1 for _user, cp in fleet if charging(cp))
            if reached is None and now_charging >= target:
                reached = now - window.started
            if reached is not None:
                low = now_charging if low is None else min(low, now_charging)
                high = now_charging if high is None else max(high, now_charging)
            if now >= deadline:
                break
            need = target - len(busy)
            for user, cp in fleet:
                if need <= 0:
                    break
                connector_id = None if id(cp) in busy else _free_connector(cp)
                if connector_id is None:
                    continue
                tags = getattr(getattr(user, "config", None), "id_tags", None) or ("VOCPP-VALID",)
                tag = tags[len(sessions) % len(tags)]
                sessions.append(cp.start_session(connector_id, tag, max(1.0, deadline - now)))
                need -= 1
            gevent.sleep(min(0.25, max(0.0, deadline - time.monotonic())))
        gevent.joinall(sessions, timeout=grace)  # their StopTransactions belong to the peak
        return {
            "n": len(members(runner)),
            "target": target,
            "done": low or 0,
            "complete": reached is not None,
            "duration": reached,
            "low": low,
            "high": high,
            "sessions_started": len(sessions),
        }


def _session_running(cp: Any) -> bool:
    return any(c.session is not None and not c.session.dead for cid, c in cp.connectors.items() if cid > 0)


def _free_connector(cp: Any) -> int | None:
    check = getattr(cp, "connector_free", None)
    for cid in cp.connectors:
        if cid == 0:
            continue
        if check is not None:
            if check(cid):
                return cid
        elif cp.connected and cp.registration == "Accepted" and not cp.connectors[cid].charging:
            return cid
    return None


def _per_tenth(seconds: Iterable[float]) -> list[list[float]]:
    """Completions per 100 ms slot: [[slot start s, count], ...] (the peak rate of a storm)."""
    slots: Counter[float] = Counter(round(math.floor(s * 10) / 10, 1) for s in seconds)
    return [[slot, count] for slot, count in sorted(slots.items())]


# ---------------------------------------------------------------- the master's side


@dataclass
class RoundOutcome:
    """One storm round over all workers."""

    kind: str
    round: int
    nodes: int
    answered: int
    n: int = 0
    done: int = 0
    complete: bool = False
    duration: float | None = None
    """Worst worker: from its receipt of the broadcast until its last charge point was done."""
    master_duration: float | None = None
    """From the broadcast until the last worker's result arrived (includes the messaging)."""
    first: float | None = None
    latencies: dict[str, Histogram] = field(default_factory=dict)
    failures: Counter[str] = field(default_factory=Counter)
    peak_per_s: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def latency(self, key: str | None = None) -> Histogram:
        key = key or " ".join(PRIMARY[self.kind])
        return self.latencies.get(key, Histogram())

    def figures(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "round": self.round,
            "workers": self.nodes,
            "workers_answered": self.answered,
            "charge_points": self.n,
            "done": self.done,
            "complete": self.complete,
            "duration_s": _round(self.duration, 3),
            "master_duration_s": _round(self.master_duration, 3),
            "first_s": _round(self.first, 3),
            "peak_per_s": self.peak_per_s,
            "latency": {key: hist.figures() for key, hist in sorted(self.latencies.items())},
            "failures": dict(self.failures),
            **self.extra,
        }


class Conductor:
    """The master's (or local runner's) view of the fleet, and the storms it broadcasts."""

    def __init__(self, environment: Any) -> None:
        self.environment = environment
        self.nodes: dict[str, dict[str, Any]] = {}
        self.results: dict[int, dict[str, dict[str, Any]]] = {}
        self.sent_at: dict[int, float] = {}
        self.arrived_at: dict[int, float] = {}
        self.reports: list[dict[str, Any]] = []
        """What each load shape measured: {"shape": name, "lines": [...], "figures": {...}}."""
        self.peak_users = 0
        self._round = 0

    def reset(self) -> None:
        self.nodes.clear()
        self.results.clear()
        self.reports.clear()
        self.peak_users = 0

    def on_state(self, node: str, data: dict[str, Any]) -> None:
        self.nodes[node] = data
        self.peak_users = max(self.peak_users, self.fleet()["users"])

    def on_result(self, node: str, data: dict[str, Any]) -> None:
        round_id = data.get("round")
        if isinstance(round_id, int):
            self.results.setdefault(round_id, {})[node] = data
            self.arrived_at[round_id] = time.monotonic()

    def fleet(self) -> dict[str, Any]:
        """Counts summed over the workers (sums; ``last_accept`` is the latest of them)."""
        total: dict[str, Any] = dict.fromkeys(
            (
                "users",
                "connected",
                "booted",
                "charging",
                "holding",
                "attempted",
                "accepted",
                "max_users",
                "deliberate_drops",
            ),
            0,
        )
        last: list[float] = []
        for state in list(self.nodes.values()):
            for key in total:
                value = state.get(key)
                if isinstance(value, int | float):
                    total[key] += value
            if isinstance(state.get("last_accept"), int | float):
                last.append(float(state["last_accept"]))
        total["last_accept"] = max(last) if last else None
        return total

    def node_count(self) -> int:
        runner = self.environment.runner
        clients = getattr(runner, "clients", None)
        if clients is None:
            return 1
        return len([c for c in clients.all if getattr(c, "state", "") != "missing"])

    def broadcast(self, kind: str, **data: Any) -> int:
        self._round += 1
        round_id = self._round
        self.sent_at[round_id] = time.monotonic()
        self.results[round_id] = {}
        self.environment.runner.send_message(MSG_COMMAND, {"kind": kind, "round": round_id, **data})
        return round_id

    def hold_boots(self) -> None:
        self.environment.runner.send_message(MSG_COMMAND, {"kind": "hold"})

    def release_boots(self) -> None:
        self.environment.runner.send_message(MSG_COMMAND, {"kind": "release"})

    def wait_for(self, condition: Callable[[dict[str, Any]], bool], timeout: float, poll: float = 0.05) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            if condition(self.fleet()):
                return True
            if time.monotonic() >= deadline:
                return False
            gevent.sleep(poll)

    def wait_round(self, round_id: int, timeout: float) -> RoundOutcome:
        nodes = self.node_count()
        deadline = time.monotonic() + timeout
        while len(self.results.get(round_id, {})) < nodes and time.monotonic() < deadline:
            gevent.sleep(0.02)
        return self.outcome(round_id, nodes)

    def outcome(self, round_id: int, nodes: int) -> RoundOutcome:
        answers = list(self.results.get(round_id, {}).values())
        kind = str(answers[0].get("kind")) if answers else "?"
        outcome = RoundOutcome(kind=kind, round=round_id, nodes=nodes, answered=len(answers))
        durations: list[float] = []
        firsts: list[float] = []
        slots: Counter[float] = Counter()
        for answer in answers:
            outcome.n += int(answer.get("n") or 0)
            outcome.done += int(answer.get("done") or 0)
            if isinstance(answer.get("duration"), int | float):
                durations.append(float(answer["duration"]))
            if isinstance(answer.get("first"), int | float):
                firsts.append(float(answer["first"]))
            for key, wire in (answer.get("latencies") or {}).items():
                outcome.latencies.setdefault(key, Histogram()).merge(Histogram.from_wire(wire))
            outcome.failures.update({str(k): int(v) for k, v in (answer.get("failures") or {}).items()})
            for slot, count in answer.get("completions") or []:
                slots[float(slot)] += int(count)
        outcome.complete = bool(answers) and len(answers) >= nodes and all(a.get("complete") for a in answers)
        if outcome.complete:
            outcome.duration = max(durations) if durations else 0.0
            if round_id in self.arrived_at and round_id in self.sent_at:
                outcome.master_duration = self.arrived_at[round_id] - self.sent_at[round_id]
        outcome.first = min(firsts) if firsts else None
        outcome.peak_per_s = max(slots.values()) * 10.0 if slots else None
        return outcome

    def report(self, shape: str, lines: list[str], figures: dict[str, Any]) -> None:
        self.reports.append({"shape": shape, "lines": lines, "figures": figures})
        for line in lines:
            log.info("%s", line)


# ---------------------------------------------------------------- wiring


def local_fleet(environment: Any) -> LocalFleet | None:
    return getattr(environment, ATTR + "_local", None)


def conductor(environment: Any) -> Conductor | None:
    return getattr(environment, ATTR + "_conductor", None)


def hold_boot(environment: Any) -> None:
    """Called by a charge point between connecting and its BootNotification: waits while a boot
    storm holds the fleet back (returns at once otherwise)."""
    fleet = local_fleet(environment)
    if fleet is not None and not fleet.gate.is_set():
        fleet.gate.wait()


def _runner_kind(runner: Any) -> str:
    return type(runner).__name__


def on_init(environment: Any, runner: Any = None, **_: Any) -> None:
    runner = runner or environment.runner
    if runner is None or getattr(environment, ATTR + "_installed", False):
        return
    setattr(environment, ATTR + "_installed", True)
    kind = _runner_kind(runner)
    if kind != "MasterRunner":
        # compile the schemas now: compiled on first use, a storm's first calls would wait ~0.1 s
        schemas.warm_up([str(action) for action in CP_INITIATED])
        fleet = LocalFleet(environment)
        setattr(environment, ATTR + "_local", fleet)
        runner.register_message(MSG_COMMAND, lambda environment, msg, **kw: fleet.on_command(msg.data or {}))
        environment.events.request.add_listener(
            lambda request_type, name, response_time, response_length=0, exception=None, **kw: fleet.on_request(
                request_type, name, response_time, exception
            )
        )
        environment.events.test_start.add_listener(lambda **kw: fleet.start_run())
        environment.events.test_stop.add_listener(lambda **kw: fleet.stop_run())
        if kind == "WorkerRunner":
            environment.events.report_to_master.add_listener(
                lambda client_id, data, **kw: data.__setitem__(MSG_STATE, fleet.snapshot())
            )
    if kind != "WorkerRunner":
        master = Conductor(environment)
        setattr(environment, ATTR + "_conductor", master)
        runner.register_message(MSG_STATE, lambda environment, msg, **kw: master.on_state(msg.node_id, msg.data))
        runner.register_message(MSG_RESULT, lambda environment, msg, **kw: master.on_result(msg.node_id, msg.data))
        environment.events.test_start.add_listener(lambda **kw: master.reset())
        if kind == "MasterRunner":

            def on_worker_report(client_id: str, data: dict[str, Any], **kw: Any) -> None:
                state = data.get(MSG_STATE)
                if isinstance(state, dict):
                    master.on_state(client_id, state)

            environment.events.worker_report.add_listener(on_worker_report)


def final_fleet(environment: Any) -> dict[str, Any] | None:
    """The fleet counts at the end of the run (on the master or local runner), or None."""
    master = conductor(environment)
    if master is None:
        return None
    fleet = local_fleet(environment)
    if fleet is not None:  # local runner: take a last sample
        master.on_state("local", fleet.snapshot())
    counts = master.fleet()
    counts["peak_users"] = max(master.peak_users, int(counts.get("max_users") or 0))
    return counts


def install(events: Any) -> None:
    """Register the storm machinery on ``events`` (Locust's global ones, normally); idempotent."""
    if getattr(events, ATTR, False):
        return
    setattr(events, ATTR, True)
    events.init.add_listener(on_init)
