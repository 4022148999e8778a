"""The master's (or local runner's) side: the fleet counts summed over workers, and the storm rounds."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gevent
from locust.env import Environment

from ocpp_users.fleet.runners import runner_of
from ocpp_users.fleet.storms.histogram import Histogram, rounded
from ocpp_users.fleet.storms.messages import MSG_COMMAND, PRIMARY

log = logging.getLogger("ocpp_users.storms")


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
            "duration_s": rounded(self.duration, 3),
            "master_duration_s": rounded(self.master_duration, 3),
            "first_s": rounded(self.first, 3),
            "peak_per_s": self.peak_per_s,
            "latency": {key: hist.figures() for key, hist in sorted(self.latencies.items())},
            "failures": dict(self.failures),
            **self.extra,
        }


class Conductor:
    """The master's (or local runner's) view of the fleet, and the storms it broadcasts."""

    def __init__(self, environment: Environment) -> None:
        self.environment = environment
        self.nodes: dict[str, dict[str, Any]] = {}
        self.results: dict[int, dict[str, dict[str, Any]]] = {}
        self.sent_at: dict[int, float] = {}
        self.arrived_at: dict[int, float] = {}
        self.reports: list[dict[str, Any]] = []
        """What each load shape measured: {"shape": name, "lines": [...], "figures": {...}}."""
        self.marks: dict[int, dict[str, Any]] = {}
        """Each storm round for the time axis: {"at": monotonic, "label": ..., "duration": s or None}."""
        self.peak_users = 0
        self._round = 0

    def reset(self) -> None:
        self.nodes.clear()
        self.results.clear()
        self.reports.clear()
        self.marks.clear()
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
                "calls_stopped",
                "late_answers",
                "unsent_messages",
                "overflow_messages",
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
        self.marks[round_id] = {
            "at": self.sent_at[round_id],
            "label": _mark_label(kind, data),
            "duration": None,
            "outage": float(data.get("outage") or 0.0),
        }
        runner_of(self.environment).send_message(MSG_COMMAND, {"kind": kind, "round": round_id, **data})
        return round_id

    def hold_boots(self) -> None:
        runner_of(self.environment).send_message(MSG_COMMAND, {"kind": "hold"})

    def release_boots(self) -> None:
        runner_of(self.environment).send_message(MSG_COMMAND, {"kind": "release"})

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
        outcome = self.outcome(round_id, nodes)
        mark = self.marks.get(round_id)
        if mark is not None:
            # The band runs from the broadcast until all were back; after an outage the way back is
            # timed from the outage's end, so the band is the outage plus that time.
            outage = float(mark.get("outage") or 0.0)
            mark["duration"] = None if outcome.duration is None else outage + outcome.duration
            if outcome.complete and outcome.duration is not None:
                took = f"{outcome.duration:.3f} s"
                when = f"{took} after the {outage:g} s outage" if outage else f"after {took}"
                mark["figure"] = f"all {outcome.n} done {when}"
            else:
                mark["figure"] = f"NOT all done: {outcome.done} of {outcome.n}"
        return outcome

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
        replays = [a for a in answers if "replayed" in a]
        if replays:
            spans = [float(a["replay_s"]) for a in replays if isinstance(a.get("replay_s"), int | float)]
            replayed = sum(int(a.get("replayed") or 0) for a in replays)
            span = max(spans) if spans else None
            outcome.extra.update(
                offline=sum(int(a.get("offline") or 0) for a in replays),
                in_doubt=sum(int(a.get("in_doubt") or 0) for a in replays),
                queued=sum(int(a.get("queued") or 0) for a in replays),
                delivered=sum(int(a.get("delivered") or 0) for a in replays),
                given_up=sum(int(a.get("given_up") or 0) for a in replays),
                overflow=sum(int(a.get("overflow") or 0) for a in replays),
                replayed=replayed,
                left=sum(int(a.get("left") or 0) for a in replays),
                replay_s=rounded(span, 3),
                replay_per_s=round(replayed / span, 1) if span else None,
            )
        return outcome

    def report(self, shape: str, lines: list[str], figures: dict[str, Any]) -> None:
        """A load shape's figures: logged now, printed again when the run ends, in the reports."""
        self.reports.append({"shape": shape, "lines": lines, "figures": figures})
        for line in lines:
            log.info("%s", line)


def _mark_label(kind: str, data: dict[str, Any]) -> str:
    """How a storm round is named on the time axis."""
    if kind == "boot":
        return "boot storm"
    if kind == "charge":
        return "peak hour"
    if kind == "drop" and data.get("waves") and int(data.get("waves") or 1) > 1:
        return f"restart wave {int(data.get('wave') or 0) + 1}/{int(data['waves'])}"
    if kind == "drop":
        jitter = data.get("jitter")
        return "reconnect storm" + (f" (jitter {float(jitter):g})" if isinstance(jitter, int | float) else "")
    return kind
