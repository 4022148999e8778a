"""The fleet of one process, counted as it changes: no timer ever walks the charge points.

Each charge point is a :class:`Member`. Its station tells it of every change of phase,
connection, registration and charging (the station's ``watcher``), and the member moves its
contribution between the counts of :class:`FleetState` in O(1). The Charge points tab, the
console line, the storms, the load shapes and the CI gates all read these counts; a storm round
waits on them (:class:`Awaiter`) instead of polling.

A member is also its charge point's row in the per-charge-point table (:meth:`FleetState.rows`):
state, connected since, last message, calls ok and failed, last failure. The member is the
station's request sink: it counts each outcome (an integer increment and a clock read) and
passes the event on to Locust. Rows are kept for at most :data:`ROW_LIMIT` charge points per
process; those that stopped keep their last row (in the same bound) until the next test starts.
"""

from __future__ import annotations

import time
import weakref
from collections import Counter
from collections.abc import Callable
from typing import Any

from locust.env import Environment

from ocpp_users.fleet.claims import ConnectorClaims
from ocpp_users.ocppj.sink import CP_TO_CSMS, CSMS_TO_CP, RequestSink, null_sink
from ocpp_users.v16.station import Phase, Station

STATES = ("connecting", "booting", "booted", "charging", "reconnecting", "failed")
"""What the Charge points view shows, in this order."""
STOPPED = "stopped"
"""The state of a row whose charge point has stopped (the run ended it)."""
ROW_LIMIT = 20_000
"""Charge points per process with a row in the per-charge-point table (the rest are counted only)."""


Row = tuple[str, str, float | None, float | None, int, int, str]
"""(id, state, connected since, last message (both ``time.time()``), calls ok, calls failed, last failure)."""


def state_of(station: Station | None, failed: bool) -> str | None:
    """A charge point's place in :data:`STATES` (None once it has stopped)."""
    if failed:
        return "failed"
    if station is None:
        return "connecting"
    phase = station.phase
    if phase == Phase.booted:
        return "charging" if station.charging else "booted"
    if phase in (Phase.booting, Phase.pending):
        return "booting"
    if phase == Phase.reconnecting:
        return "reconnecting"
    if phase == Phase.failed:
        return "failed"
    if phase == Phase.stopped:
        return None
    return "connecting"


class Awaiter:
    """Charge points a storm round waits for, each done when ``done(station)`` first holds; the
    time each one was done (``time.monotonic()``) is recorded as the change happens."""

    def __init__(self, members: list[Member], done: Callable[[Station], bool]) -> None:
        self.done = done
        self.pending: set[Member] = set(members)
        self.completions: list[float] = []
        self._callbacks: list[Callable[[], object]] = []
        for member in list(self.pending):
            self.check(member)

    def check(self, member: Member) -> None:
        if member not in self.pending:
            return
        station = member.station
        if station is not None and self.done(station):
            self.pending.discard(member)
            self.completions.append(time.monotonic())
        elif station is None or station.stopping:
            self.pending.discard(member)  # stopped: it will never be done, and it is not waited for
        if not self.pending:
            for callback in self._callbacks:
                callback()

    def on_complete(self, callback: Callable[[], object]) -> None:
        self._callbacks.append(callback)
        if not self.pending:
            callback()


class Member:
    """One charge point of this process, as the fleet counts it (the station's watcher), and its
    row of the per-charge-point table (its request sink, when it has a row)."""

    __slots__ = (
        "_booted",
        "_charging",
        "_connected",
        "_state",
        "bad",
        "claims",
        "cp_id",
        "failed",
        "fleet",
        "last",
        "ok",
        "reason",
        "since",
        "station",
        "tracked",
    )

    def __init__(self, fleet: FleetState, tracked: bool = True) -> None:
        self.fleet = fleet
        self.station: Station | None = None
        self.claims: ConnectorClaims | None = None
        """Which of its connectors a session may start on (the peak hour starts sessions there)."""
        self.failed = False
        self._state: str | None = "connecting"
        self._connected = False
        self._booted = False
        self._charging = False
        self.tracked = tracked
        """Whether it has a row (at most :data:`ROW_LIMIT` per process)."""
        self.cp_id: str | None = None
        self.since: float | None = None
        """When its connection opened (``time.time()``), None while not connected."""
        self.last: float | None = None
        """When it last exchanged an OCPP message (``time.time()``)."""
        self.ok = 0
        """OCPP calls that succeeded (ours and the CSMS's)."""
        self.bad = 0
        """Failures of any kind (calls, connections, protocol); not a drop the harness made itself."""
        self.reason = ""
        """The last failure: the stats row's name and reason."""

    # StationWatcher
    def changed(self, station: Station) -> None:
        self.fleet.update(self)

    def call_stopped(self, station: Station, action: str) -> None:
        self.fleet.calls_stopped[action] += 1

    # RequestSink: count, then pass the event on to Locust
    def __call__(
        self,
        *,
        request_type: str,
        name: str,
        response_time: float,
        response_length: int,
        exception: BaseException | None = None,
        context: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if exception is None:
            if request_type is CP_TO_CSMS or request_type is CSMS_TO_CP:
                self.ok += 1
                self.last = _now()
        elif request_type is CP_TO_CSMS or request_type is CSMS_TO_CP:
            self.bad += 1
            self.reason = f"{name}: {exception}"
            self.last = _now()
        else:
            self.bad += 1
            self.reason = f"{name}: {exception}"
        self.fleet.fire(
            request_type=request_type,
            name=name,
            response_time=response_time,
            response_length=response_length,
            exception=exception,
            context=context,
        )  # (``kwargs``: none; the engine fires every event through ocppj.sink.report())

    def row(self) -> Row | None:
        """Its row of the per-charge-point table (None before it has an id)."""
        if self.cp_id is None:
            return None
        state = self._state or ("failed" if self.failed else STOPPED)
        return (self.cp_id, state, self.since, self.last, self.ok, self.bad, self.reason)


_now = time.time


class FleetState:
    """The counts of this process's charge points, kept current by their changes."""

    def __init__(self, fire: RequestSink = null_sink, row_limit: int = ROW_LIMIT) -> None:
        self.fire = fire
        """Where the members pass their request events on (Locust's ``events.request.fire``)."""
        self.row_limit = row_limit
        self.tracked = 0
        """Running members with a row."""
        self.departed: dict[str, Row] = {}
        """The last rows of charge points that stopped during this test (oldest first; bounded)."""
        self.counts: dict[str, int] = dict.fromkeys(("total", *STATES), 0)
        """Charge points by state, and their total (those not yet stopped)."""
        self.users = 0
        self.connected = 0
        self.booted = 0
        """Charge points whose last BootNotification was Accepted."""
        self.charging = 0
        self.holding = 0
        """Connected charge points a boot storm holds before their BootNotification."""
        self.max_users = 0
        self.attempted: set[str] = set()
        """Charge point ids that had an answer to a BootNotification during this run."""
        self.accepted: set[str] = set()
        """Charge point ids whose registration became Accepted during this run."""
        self.last_accept: float | None = None
        """Seconds from the run's start to the first Accepted of the charge point that booted last."""
        self.deliberate_drops = 0
        """Connections a storm dropped on purpose."""
        self.calls_stopped: Counter[str] = Counter()
        """Calls the harness stopped (run ending, users stopping), by action: never CSMS failures."""
        self.late_answers = 0
        """Answers that came for calls already accounted (timed out or stopped)."""
        self.unsent_messages = 0
        """Transaction messages still queued when their charge point stopped: never delivered (the
        harness stopping, never a CSMS failure); added as each charge point leaves."""
        self.overflow_messages = 0
        """MeterValues dropped because a charge point's offline queue was full (--offline-queue-max)."""
        self.members: set[Member] = set()
        self.awaiters: list[Awaiter] = []
        self.t0 = time.monotonic()

    # ------------------------------------------------------------ a run

    def start_run(self) -> None:
        """A new test: cumulative counts start again (current ones stay: they are what is)."""
        self.attempted.clear()
        self.accepted.clear()
        self.last_accept = None
        self.deliberate_drops = 0
        self.calls_stopped.clear()
        self.late_answers = 0
        self.unsent_messages = 0
        self.overflow_messages = 0
        self.max_users = self.users
        self.t0 = time.monotonic()
        self.departed.clear()

    # ------------------------------------------------------------ members

    def join(self) -> Member:
        """A user starts: it counts as connecting until its station exists."""
        tracked = self.tracked < self.row_limit
        if tracked:
            self.tracked += 1
            self._make_room()
        member = Member(self, tracked)
        self.members.add(member)
        self.users += 1
        self.max_users = max(self.max_users, self.users)
        self._move(None, "connecting")
        return member

    def sink(self, member: Member) -> RequestSink:
        """The request sink for ``member``'s station: the member itself when it has a row."""
        return member if member.tracked else self.fire

    def attach(self, member: Member, station: Station, claims: ConnectorClaims | None = None) -> None:
        member.station = station
        member.claims = claims
        member.cp_id = station.cp_id
        self.departed.pop(station.cp_id, None)  # the id runs again: its old row is replaced
        station.watch(member)  # calls changed() once: counts from the station's state now

    def fail(self, member: Member) -> None:
        member.failed = True
        self.update(member)

    def leave(self, member: Member) -> None:
        """A user has stopped: its charge point no longer counts."""
        if member not in self.members:
            return
        self.members.discard(member)
        self.users -= 1
        station = member.station
        if station is not None:
            self.late_answers += station.late_answers
            replay = station.replay_counts
            self.unsent_messages += replay.unsent
            self.overflow_messages += replay.overflow
        self._set(member, None, False, False, False)
        member.since = None
        for awaiter in list(self.awaiters):
            awaiter.check(member)
        if member.tracked:
            member.tracked = False
            self.tracked -= 1
            row = member.row()
            if row is not None:
                self.departed[row[0]] = row
                self._make_room()

    def _make_room(self) -> None:
        """Drop the oldest departed rows beyond :attr:`row_limit` (running charge points first)."""
        departed = self.departed
        while departed and self.tracked + len(departed) > self.row_limit:
            del departed[next(iter(departed))]

    def rows(self) -> list[Row]:
        """The per-charge-point table of this process: running charge points with a row, then the
        last rows of those that stopped during this test (at most :attr:`row_limit` in all)."""
        rows = [row for member in self.members if member.tracked and (row := member.row()) is not None]
        rows.extend(self.departed.values())
        return rows

    def update(self, member: Member) -> None:
        station = member.station
        if member not in self.members:
            return
        connected = station is not None and station.connected
        if connected != member._connected:
            member.since = _now() if connected else None
        booted = station is not None and station.registration == "Accepted"
        charging = station is not None and station.charging
        self._set(member, state_of(station, member.failed), connected, booted, charging)
        if station is not None and station.registration is not None:
            self.attempted.add(station.cp_id)
            if booted and station.cp_id not in self.accepted:
                self.accepted.add(station.cp_id)
                self.last_accept = max(0.0, time.monotonic() - self.t0)
        for awaiter in self.awaiters:
            awaiter.check(member)

    def _set(self, member: Member, state: str | None, connected: bool, booted: bool, charging: bool) -> None:
        if state != member._state:
            self._move(member._state, state)
            member._state = state
        if connected != member._connected:
            self.connected += 1 if connected else -1
            member._connected = connected
        if booted != member._booted:
            self.booted += 1 if booted else -1
            member._booted = booted
        if charging != member._charging:
            self.charging += 1 if charging else -1
            member._charging = charging

    def _move(self, old: str | None, new: str | None) -> None:
        counts = self.counts
        if old is not None:
            counts[old] -= 1
            counts["total"] -= 1
        if new is not None:
            counts[new] += 1
            counts["total"] += 1

    # ------------------------------------------------------------ storms

    def await_members(self, members: list[Member], done: Callable[[Station], bool]) -> Awaiter:
        awaiter = Awaiter(members, done)
        self.awaiters.append(awaiter)
        return awaiter

    def forget(self, awaiter: Awaiter) -> None:
        if awaiter in self.awaiters:
            self.awaiters.remove(awaiter)

    # ------------------------------------------------------------ reports

    def snapshot(self) -> dict[str, object]:
        """This process's counts, for the master and the load shapes (O(1))."""
        return {
            **{f"state_{name}": value for name, value in self.counts.items()},
            "users": self.users,
            "connected": self.connected,
            "booted": self.booted,
            "charging": self.charging,
            "holding": self.holding,
            "attempted": len(self.attempted),
            "accepted": len(self.accepted),
            "last_accept": self.last_accept,
            "max_users": self.max_users,
            "deliberate_drops": self.deliberate_drops,
            "calls_stopped": sum(self.calls_stopped.values()),
            "late_answers": self.late_answers,
            "unsent_messages": self.unsent_messages,
            "overflow_messages": self.overflow_messages,
        }


_STATES: weakref.WeakKeyDictionary[Environment, FleetState] = weakref.WeakKeyDictionary()


def fleet_state(environment: Environment) -> FleetState:
    """The fleet state of this process's run (one per Locust Environment)."""
    state = _STATES.get(environment)
    if state is None:
        state = _STATES[environment] = FleetState(environment.events.request.fire)
    return state
