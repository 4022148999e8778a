"""The storm side of a load-generating process: its charge points, their counts, and the rounds it runs.

Counts come from the process's :class:`~ocpp_users.fleet.state.FleetState`, kept current by the
charge points' own changes; a storm round waits on them (an :class:`~ocpp_users.fleet.state.Awaiter`
records the instant each charge point is done), so nothing here walks the fleet on a timer.
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
from locust.env import Environment

from ocpp_users.fleet.runners import runner_of
from ocpp_users.fleet.state import FleetState, Member, fleet_state
from ocpp_users.fleet.storms.histogram import Histogram
from ocpp_users.fleet.storms.messages import MSG_RESULT, MSG_STATE, PRIMARY, STATE_INTERVAL, STATE_REFRESH
from ocpp_users.ocppj.sink import WEBSOCKET
from ocpp_users.v16.station import Station
from ocpp_users.v16.transactions import ReplayCounts

log = logging.getLogger("ocpp_users.storms")


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


def _stations(members: Iterable[Member]) -> list[tuple[Member, Station]]:
    """(member, station) of running charge points, in charge point id order."""
    pairs = [(m, m.station) for m in members if m.station is not None and not m.station.stopping]
    return sorted(((m, s) for m, s in pairs if s is not None), key=lambda pair: pair[1].cp_id)


class LocalFleet:
    """The storm side of a load-generating process (a worker, or the local runner)."""

    def __init__(self, environment: Environment) -> None:
        self.environment = environment
        self.state: FleetState = fleet_state(environment)
        self.gate = gevent.event.Event()
        """Open unless a boot storm holds BootNotifications back."""
        self.gate.set()
        self.window: Window | None = None
        self._sampler: gevent.Greenlet | None = None
        self._rounds: list[gevent.Greenlet] = []
        self._last_sent: tuple[Any, ...] = ()
        self._last_sent_at = 0.0

    # ------------------------------------------------------------ run life cycle

    def start_run(self) -> None:
        self.state.start_run()
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
        """This process's counts (O(1)); cumulative ones (attempted, accepted) survive users stopping."""
        return self.state.snapshot()

    def hold(self) -> None:
        """A charge point waits here between connecting and its BootNotification while a boot storm
        holds the fleet back (returns at once otherwise)."""
        if self.gate.is_set():
            return
        self.state.holding += 1
        try:
            self.gate.wait()
        finally:
            self.state.holding -= 1

    def _sample_loop(self) -> None:
        while True:
            gevent.sleep(STATE_INTERVAL)
            self.send_state()

    def send_state(self, force: bool = False) -> None:
        """Send this process's counts to the master when they changed (at least every few seconds)."""
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
        fleet = _stations(self.state.members)
        saved: dict[str, float] = {}
        replay = Replay()
        outage = 0.0
        done: Callable[[Station], bool]
        if kind == "boot":
            targets = [member for member, _station in fleet]

            def done(station: Station) -> bool:
                return station.registration == "Accepted"

        else:
            waves = max(1, int(command.get("waves") or 1))
            wave = int(command.get("wave") or 0) % waves
            jitter = command.get("jitter")
            outage = float(command.get("outage") or 0.0)
            chosen = [(member, station) for member, station in fleet[wave::waves] if station.connected]
            for _member, station in chosen:
                if jitter is not None:
                    saved[station.cp_id] = station.settings.backoff_jitter
                    station.settings.backoff_jitter = float(jitter)
                replay.before(station)
                if station.drop(offline_for=outage):
                    self.state.deliberate_drops += 1
            targets = [member for member, _station in chosen]

            def done(station: Station) -> bool:
                return station.connected

        awaiter = self.state.await_members(targets, done)  # before anything yields: no change is missed
        if kind == "boot":
            self.gate.set()
        finished = gevent.event.Event()
        awaiter.on_complete(finished.set)
        try:
            finished.wait(max(0.0, window.started + timeout - time.monotonic()))
        finally:
            self.state.forget(awaiter)
        for _member, station in fleet:
            if station.cp_id in saved:
                station.settings.backoff_jitter = saved[station.cp_id]
        figures: dict[str, Any] = {}
        if kind != "boot":
            # Back: then the transaction messages queued offline are replayed; wait for that too
            # (each charge point tells its watcher when its queue is empty: no polling).
            drained = self.state.await_members(
                targets, lambda station: station.connected and not station.queued_messages
            )
            emptied = gevent.event.Event()
            drained.on_complete(emptied.set)
            try:
                emptied.wait(max(0.0, window.started + timeout - time.monotonic()))
            finally:
                self.state.forget(drained)
            figures = replay.figures([station for _member, station in fleet if station.cp_id in replay.baseline])
        # After an outage the way back is timed from its end (the time offline was ours).
        origin = window.started + outage
        completions = sorted(max(0.0, at - origin) for at in awaiter.completions)
        duration = first = None
        if completions:
            first = completions[0]
            if window.first_ok is not None:
                first = min(first, max(0.0, window.first_ok - origin))
        if not awaiter.pending:
            duration = completions[-1] if completions else 0.0
        return {
            "n": len(targets),
            "done": len(completions),
            "complete": not awaiter.pending,
            "duration": duration,
            "first": first,
            "completions": _per_tenth(completions),
            **figures,
        }

    def _charge(self, command: dict[str, Any], window: Window) -> dict[str, Any]:
        """Keep ``fraction`` of this process's charge points charging until ``duration`` is over."""
        from ocpp_users.fleet.runtime import Fleet  # late: the runtime imports the storms

        fraction = float(command.get("fraction") or 0.0)
        duration = float(command.get("duration") or 0.0)
        grace = float(command.get("timeout") or 30.0)
        deadline = window.started + duration
        config = Fleet.of(self.environment).config
        tags = config.id_tags if config is not None else ("VOCPP-VALID",)
        state = self.state
        reached: float | None = None
        low: int | None = None
        high: int | None = None
        target = 0
        sessions: list[gevent.Greenlet] = []
        cursor = 0
        while True:
            now = time.monotonic()
            target = math.ceil(fraction * state.users - 1e-9)
            now_charging = state.charging
            if reached is None and now_charging >= target:
                reached = now - window.started
            if reached is not None:
                low = now_charging if low is None else min(low, now_charging)
                high = now_charging if high is None else max(high, now_charging)
            if now >= deadline:
                break
            starting = sum(1 for g in sessions if not g.dead)
            need = target - max(now_charging, starting)
            if need > 0:
                # Only when charge points are missing: walk on from where the last walk stopped.
                members = list(state.members)
                for offset in range(len(members)):
                    if need <= 0:
                        break
                    member = members[(cursor + offset) % len(members)]
                    station, claims = member.station, member.claims
                    if station is None or claims is None or station.charging:
                        continue
                    connector_id = claims.free_connector()
                    if connector_id is None:
                        continue
                    tag = tags[len(sessions) % len(tags)]
                    sessions.append(station.start_session(connector_id, tag, max(1.0, deadline - now)))
                    need -= 1
                    cursor = (cursor + offset + 1) % len(members)
            gevent.sleep(min(0.25, max(0.0, deadline - time.monotonic())))
        gevent.joinall(sessions, timeout=grace)  # their StopTransactions belong to the peak
        return {
            "n": state.users,
            "target": target,
            "done": low or 0,
            "complete": reached is not None,
            "duration": reached,
            "low": low,
            "high": high,
            "sessions_started": len(sessions),
        }


class Replay:
    """What the charge points of a reconnect storm queued while offline and replayed once back."""

    def __init__(self) -> None:
        self.baseline: dict[str, ReplayCounts] = {}
        self.started = time.monotonic()

    def before(self, station: Station) -> None:
        self.baseline[station.cp_id] = station.replay_counts

    def figures(self, stations: list[Station]) -> dict[str, Any]:
        """``offline`` (transaction messages that happened offline and were queued), ``queued``
        (those and the ones that waited behind them), ``in_doubt`` (sent when the drop came, so
        sent again), ``delivered`` (answered by the CSMS), ``given_up`` (dropped after
        TransactionMessageAttempts failures: lost), ``replayed`` (the two together), ``overflow``
        (dropped, the queue full), ``left`` (still queued), and ``replay_s``: from the first
        replay's start to the last message queued offline delivered or given up."""
        queued = offline = in_doubt = delivered = given_up = overflow = left = 0
        first: float | None = None
        last: float | None = None
        for station in stations:
            now = station.replay_counts
            was = self.baseline[station.cp_id]
            queued += now.queued - was.queued
            offline += now.offline - was.offline
            in_doubt += now.in_doubt - was.in_doubt
            delivered += now.delivered - was.delivered
            given_up += now.given_up - was.given_up
            overflow += now.overflow - was.overflow
            done = now.replayed - was.replayed
            left += station.queued_messages
            if done and now.started is not None and now.started >= self.started:
                first = now.started if first is None else min(first, now.started)
            if done and now.ended is not None and now.ended >= self.started:
                last = now.ended if last is None else max(last, now.ended)
        span = None if first is None or last is None else max(0.0, last - first)
        return {
            "queued": queued,
            "offline": offline,
            "in_doubt": in_doubt,
            "delivered": delivered,
            "given_up": given_up,
            "replayed": delivered + given_up,
            "overflow": overflow,
            "left": left,
            "replay_s": span,
        }


def _per_tenth(seconds: Iterable[float]) -> list[list[float]]:
    """Completions per 100 ms slot: [[slot start s, count], ...] (the peak rate of a storm)."""
    slots: Counter[float] = Counter(round(math.floor(s * 10) / 10, 1) for s in seconds)
    return [[slot, count] for slot, count in sorted(slots.items())]
