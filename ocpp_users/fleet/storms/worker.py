"""The storm side of a load-generating process: its charge points, their counts, and the rounds it runs."""

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
from locust.env import Environment
from locust.runners import Runner

from ocpp_users.fleet.runners import runner_of
from ocpp_users.fleet.storms.histogram import Histogram
from ocpp_users.fleet.storms.messages import MSG_RESULT, MSG_STATE, PRIMARY, STATE_INTERVAL, STATE_REFRESH
from ocpp_users.fleet.storms.protocols import ChargePointLike
from ocpp_users.ocppj.sink import CP_TO_CSMS, WEBSOCKET

log = logging.getLogger("ocpp_users.storms")


def members(runner: Runner | None) -> list[tuple[Any, ChargePointLike]]:
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


def charging(cp: ChargePointLike) -> bool:
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

    def __init__(self, environment: Environment) -> None:
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
        runner_of(self.environment).send_message(MSG_RESULT, result)

    def _storm(self, command: dict[str, Any], window: Window) -> dict[str, Any]:
        kind = window.kind
        timeout = float(command.get("timeout") or 60.0)
        fleet = sorted(members(self.environment.runner), key=lambda pair: str(pair[1].cp_id))
        saved: dict[str, float] = {}
        done: Callable[[ChargePointLike], bool]
        if kind == "boot":
            targets = [cp for _user, cp in fleet]
            self.gate.set()

            def done(cp: ChargePointLike) -> bool:
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

            def done(cp: ChargePointLike) -> bool:
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
        targets: list[ChargePointLike], done: Callable[[ChargePointLike], bool], started: float, timeout: float
    ) -> tuple[list[float], list[ChargePointLike]]:
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
                connector_id = None if id(cp) in busy else _free_connector(user, cp)
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


def _session_running(cp: ChargePointLike) -> bool:
    return any(c.session is not None and not c.session.dead for cid, c in cp.connectors.items() if cid > 0)


def _free_connector(user: Any, cp: ChargePointLike) -> int | None:
    """A connector of ``cp`` a session may start on now (the fleet's claims decide when the user has them)."""
    claims = getattr(user, "claims", None)
    if claims is not None:
        free: int | None = claims.free_connector()
        return free
    for cid in cp.connectors:
        if cid > 0 and cp.connected and cp.registration == "Accepted" and not cp.connectors[cid].charging:
            return cid
    return None


def _per_tenth(seconds: Iterable[float]) -> list[list[float]]:
    """Completions per 100 ms slot: [[slot start s, count], ...] (the peak rate of a storm)."""
    slots: Counter[float] = Counter(round(math.floor(s * 10) / 10, 1) for s in seconds)
    return [[slot, count] for slot, count in sorted(slots.items())]
