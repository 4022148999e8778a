"""Load fidelity: is this worker still sending what it should, when it should?

A load generator that runs out of CPU does not fail: it quietly sends less than it was asked to,
and reports latencies that include its own queueing. :class:`FidelityTracker` makes that visible:

* periodic messages (Heartbeat, MeterValues, ...) are counted when they fall **due** and when
  they are **sent**; one sent more than ``tolerance_s`` after its due time is *late*, one never
  sent because the next was already due is *missed*;
* the gevent loop's **lag** (how late a short sleep wakes up) and the process's **CPU** are sampled,
  and the garbage collector's **pauses** recorded (a full collection over ~20,000 charge points'
  objects stops the process for a good part of a second);
* :meth:`FidelityTracker.warn` applies the policy and returns a one-line warning (or None);
  with ``cpu_max_percent`` a saturated CPU is a warning by itself. Each part of a warning names the
  measured value and its limit. What the harness does to itself is not judged: the first
  ``start_grace_s`` seconds of sampling (imports, schema compilation, the first connections) and
  of :meth:`FidelityTracker.restart_run_figures` (the collection and freeze when spawning
  completes); a single late wake-up of the loop is no verdict either (it takes
  :data:`LAG_SAMPLES_OVER` samples over the limit), nor a CPU mean of fewer than
  :data:`CPU_SAMPLES_MIN` samples.

Hooking it into a fleet (one tracker per worker process)::

    tracker = FidelityTracker()
    tracker.start_sampling()                      # on test_start; stop_sampling() on test_stop
    ...
    due = last_due + interval                     # in a charge point's periodic loop
    tracker.scheduled("Heartbeat", due)           # when it falls due
    tracker.sent("Heartbeat", due)                # just before the call goes out
    ...
    message = tracker.warn()                      # every few seconds; rate-limited
    if message: logging.warning(message)

For loops that wait ``interval`` after the previous send (``run_heartbeats``), use
:meth:`FidelityTracker.periodic` with the previous send time instead.

All times are ``clock()`` seconds (``time.monotonic`` by default).
"""

from __future__ import annotations

import math
import resource
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Clock = Callable[[], float]


LAG_SAMPLES_OVER = 2
"""Loop lag samples over the limit (in the judged window) before the lag is a problem."""
CPU_SAMPLES_MIN = 5
"""CPU samples (one a second) in the judged window before a saturated CPU is a problem."""


def process_cpu_s() -> float:
    """User + system CPU seconds of this process, from the OS's accounting."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass(slots=True)
class KindCounts:
    """Counts for one kind of periodic message."""

    due: int = 0
    """Messages that fell due (sent or not)."""
    on_time: int = 0
    """Sent within the tolerance of their due time."""
    late: int = 0
    """Sent, but more than the tolerance after their due time."""
    missed: int = 0
    """Fell due but were skipped: the next one was already due when the loop got round to it."""
    max_lateness_s: float = 0.0

    @property
    def sent(self) -> int:
        return self.on_time + self.late

    @property
    def on_time_ratio(self) -> float:
        """On time ÷ due (1.0 when nothing was due)."""
        return self.on_time / self.due if self.due else 1.0

    def add(self, other: KindCounts) -> None:
        self.due += other.due
        self.on_time += other.on_time
        self.late += other.late
        self.missed += other.missed
        self.max_lateness_s = max(self.max_lateness_s, other.max_lateness_s)

    def as_dict(self) -> dict[str, Any]:
        return {
            "due": self.due,
            "on_time": self.on_time,
            "late": self.late,
            "missed": self.missed,
            "on_time_ratio": round(self.on_time_ratio, 4),
            "max_lateness_s": round(self.max_lateness_s, 4),
        }


@dataclass(slots=True)
class FidelitySnapshot:
    """Totals since the tracker started, plus the recent window the warning policy looks at."""

    totals: dict[str, KindCounts]
    window: dict[str, KindCounts]
    window_s: float
    lateness_p99_s: float
    """99th percentile of how late recent sends were (0 when on schedule)."""
    loop_lag_p99_s: float
    loop_lag_max_s: float
    cpu_percent: float
    """Mean CPU of this process over the window (100 = one core)."""
    gc_pause_max_s: float = 0.0
    """Longest garbage-collector pause in the window."""
    gc_pause_total_s: float = 0.0
    warnings: int = 0
    run_loop_lag_p99_s: float = 0.0
    """99th percentile loop lag since sampling started (the whole run, not the window)."""
    run_cpu_percent: float = 0.0
    """Mean CPU of this process since sampling started (100 = one core)."""
    lag_samples_over: int = 0
    """Loop lag samples in the window over the tracker's limit."""
    cpu_samples: int = 0
    """CPU samples in the window."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "totals": {kind: counts.as_dict() for kind, counts in self.totals.items()},
            "window": {kind: counts.as_dict() for kind, counts in self.window.items()},
            "window_s": self.window_s,
            "lateness_p99_s": round(self.lateness_p99_s, 4),
            "loop_lag_p99_s": round(self.loop_lag_p99_s, 4),
            "loop_lag_max_s": round(self.loop_lag_max_s, 4),
            "cpu_percent": round(self.cpu_percent, 1),
            "gc_pause_max_s": round(self.gc_pause_max_s, 4),
            "gc_pause_total_s": round(self.gc_pause_total_s, 4),
            "warnings": self.warnings,
            "run_loop_lag_p99_s": round(self.run_loop_lag_p99_s, 5),
            "run_cpu_percent": round(self.run_cpu_percent, 2),
        }


@dataclass(slots=True)
class _Bucket:
    second: int
    kinds: dict[str, KindCounts] = field(default_factory=dict)


def _p99(values: list[float]) -> float:
    if not values:
        return 0.0
    data = sorted(values)
    return data[min(len(data) - 1, max(0, round(0.99 * len(data)) - 1))]


class FidelityTracker:
    """Due versus sent-on-time counts, loop lag and CPU of one worker process, with a warning policy."""

    def __init__(
        self,
        *,
        tolerance_s: float = 1.0,
        window_s: float = 30.0,
        on_time_min: float = 0.95,
        loop_lag_max_s: float = 0.1,
        min_due: int = 20,
        warn_every_s: float = 60.0,
        cpu_max_percent: float | None = None,
        clock: Clock = time.monotonic,
        cpu_clock: Clock = process_cpu_s,
        start_grace_s: float = 2.0,
    ) -> None:
        self.tolerance_s = tolerance_s
        """A message sent more than this after its due time is late."""
        self.window_s = window_s
        """The warning policy looks at the last ``window_s`` seconds."""
        self.on_time_min = on_time_min
        """Warn when fewer than this fraction of a kind's due messages went out on time."""
        self.loop_lag_max_s = loop_lag_max_s
        """Warn when the 99th percentile loop lag in the window exceeds this."""
        self.min_due = min_due
        """No on-time verdict on fewer due messages than this in the window."""
        self.warn_every_s = warn_every_s
        """At most one warning per this many seconds (unless forced)."""
        self.cpu_max_percent = cpu_max_percent
        """Warn when the mean CPU in the window reaches this (100 = one core; None: CPU alone never warns)."""
        self.clock = clock
        self.cpu_clock = cpu_clock
        self.start_grace_s = start_grace_s
        """Seconds after sampling starts (or the run figures restart) that are not judged."""
        self._judge_from: float | None = None
        self.totals: dict[str, KindCounts] = {}
        self.warnings = 0
        self._buckets: deque[_Bucket] = deque()
        self._lateness: deque[tuple[float, float]] = deque(maxlen=20_000)
        self._lags: deque[tuple[float, float]] = deque(maxlen=10_000)
        self._cpu: deque[tuple[float, float]] = deque(maxlen=1_000)
        self._gc: deque[tuple[float, float]] = deque(maxlen=10_000)
        self._gc_started = 0.0
        self._last_warning: float | None = None
        self._sampler: Any = None
        self._run_lags: Counter[int] = Counter()
        """Loop lags since sampling started, in 0.1 ms steps (bounded: one key per distinct step)."""
        self._run_started: tuple[float, float] | None = None
        """(clock, CPU seconds) when sampling started."""
        self._run_ended: tuple[float, float] | None = None
        self._run_closed = False

    # ------------------------------------------------------------ counting

    def _counts(self, kind: str, now: float) -> tuple[KindCounts, KindCounts]:
        second = int(now)
        buckets = self._buckets
        if not buckets or buckets[-1].second != second:
            buckets.append(_Bucket(second))
            horizon = now - self.window_s
            while buckets and buckets[0].second < horizon - 1:
                buckets.popleft()
        kinds = buckets[-1].kinds
        recent = kinds.get(kind)
        if recent is None:
            recent = kinds[kind] = KindCounts()
        total = self.totals.get(kind)
        if total is None:
            total = self.totals[kind] = KindCounts()
        return total, recent

    def scheduled(self, kind: str, due: float) -> None:
        """A ``kind`` message fell due at ``due`` (call once per due message)."""
        for counts in self._counts(kind, self.clock()):
            counts.due += 1

    def sent(self, kind: str, due: float, at: float | None = None) -> bool:
        """The message due at ``due`` goes out now (or at ``at``); returns whether it is on time."""
        now = self.clock() if at is None else at
        lateness = max(0.0, now - due)
        on_time = lateness <= self.tolerance_s
        for counts in self._counts(kind, now):
            if on_time:
                counts.on_time += 1
            else:
                counts.late += 1
            if lateness > counts.max_lateness_s:
                counts.max_lateness_s = lateness
        self._lateness.append((now, lateness))
        return on_time

    def missed(self, kind: str, count: int = 1) -> None:
        """``count`` due messages were skipped (they count as due and missed)."""
        if count <= 0:
            return
        for counts in self._counts(kind, self.clock()):
            counts.due += count
            counts.missed += count

    def periodic(self, kind: str, previous: float | None, interval: float, at: float | None = None) -> bool:
        """For loops that send every ``interval`` after the previous send (at ``previous``):
        counts one due message (due at ``previous + interval``) and its send now. The first send
        (``previous`` None) is on time by definition."""
        now = self.clock() if at is None else at
        due = now if previous is None else previous + interval
        self.scheduled(kind, due)
        return self.sent(kind, due, now)

    # ------------------------------------------------------------ process samples

    def record_loop_lag(self, lag_s: float, at: float | None = None) -> None:
        lag = max(0.0, lag_s)
        self._lags.append((self.clock() if at is None else at, lag))
        if not self._run_closed:
            self._run_lags[min(int(lag * 10_000), 10_000_000)] += 1

    def restart_run_figures(self) -> None:
        """Run-wide loop lag and CPU count from now (e.g. once the ramp-up is over)."""
        self._run_lags.clear()
        self._run_closed = False
        if self._run_started is not None:
            self._run_started = (self.clock(), self.cpu_clock())
            self._judge_from = self.clock() + self.start_grace_s
            self._run_ended = None

    def end_run_figures(self) -> None:
        """Run-wide loop lag and CPU stop counting here (e.g. when the test begins to stop: stopping
        thousands of charge points is the harness's own work, not the fleet at its size)."""
        if self._run_started is not None and self._run_ended is None:
            self._run_ended = (self.clock(), self.cpu_clock())
        self._run_closed = True

    def run_loop_lag_p99(self) -> float:
        """99th percentile loop lag (seconds) since sampling started."""
        counts = self._run_lags
        n = sum(counts.values())
        if not n:
            return 0.0
        rank = max(1, math.ceil(0.99 * n))
        seen = 0
        for step in sorted(counts):
            seen += counts[step]
            if seen >= rank:
                return step / 10_000
        return max(counts) / 10_000

    def run_cpu_percent(self) -> float:
        """Mean CPU (100 = one core) since sampling started."""
        if self._run_started is None:
            return 0.0
        clock_at, cpu_at = self._run_started
        clock_end, cpu_end = self._run_ended or (self.clock(), self.cpu_clock())
        elapsed = clock_end - clock_at
        return 100.0 * (cpu_end - cpu_at) / elapsed if elapsed > 0 else 0.0

    def record_cpu(self, percent: float, at: float | None = None) -> None:
        self._cpu.append((self.clock() if at is None else at, percent))

    def record_gc_pause(self, seconds: float, at: float | None = None) -> None:
        self._gc.append((self.clock() if at is None else at, seconds))

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self.record_gc_pause(time.perf_counter() - self._gc_started)

    def start_sampling(self, period_s: float = 0.1, cpu_period_s: float = 1.0, track_gc: bool = True) -> None:
        """Sample loop lag every ``period_s`` and CPU every ``cpu_period_s`` in a greenlet; with
        ``track_gc`` also time the garbage collector's pauses."""
        import gc

        import gevent

        if self._sampler is not None:
            return
        self._run_started = (self.clock(), self.cpu_clock())
        self._run_ended = None
        self._run_closed = False
        self._judge_from = self.clock() + self.start_grace_s
        if track_gc and self._on_gc not in gc.callbacks:
            gc.callbacks.append(self._on_gc)

        def sample() -> None:
            cpu_at, cpu_before = self.clock(), self.cpu_clock()
            while True:
                before = self.clock()
                gevent.sleep(period_s)
                now = self.clock()
                self.record_loop_lag(now - before - period_s, now)
                if now - cpu_at >= cpu_period_s:
                    cpu_now = self.cpu_clock()
                    self.record_cpu(100.0 * (cpu_now - cpu_before) / (now - cpu_at), now)
                    cpu_at, cpu_before = now, cpu_now

        self._sampler = gevent.spawn(sample)

    def stop_sampling(self) -> None:
        import gc

        sampler, self._sampler = self._sampler, None
        if sampler is not None:
            sampler.kill(block=False)
            if self._run_ended is None:
                self._run_ended = (self.clock(), self.cpu_clock())
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)

    # ------------------------------------------------------------ verdicts

    def snapshot(self, since: float | None = None) -> FidelitySnapshot:
        """Totals and the recent window; ``since`` (a clock time) cuts the window's loop lag, CPU and
        lateness samples shorter (the policy judges from the end of the start-up grace)."""
        now = self.clock()
        horizon = now - self.window_s
        samples_from = horizon if since is None else max(horizon, since)
        window: dict[str, KindCounts] = {}
        for bucket in self._buckets:
            if bucket.second + 1 <= horizon:
                continue
            for kind, counts in bucket.kinds.items():
                window.setdefault(kind, KindCounts()).add(counts)
        totals = {kind: KindCounts() for kind in self.totals}
        for kind, counts in self.totals.items():
            totals[kind].add(counts)
        lags = [lag for at, lag in self._lags if at >= samples_from]
        cpu = [pct for at, pct in self._cpu if at >= samples_from]
        pauses = [pause for at, pause in self._gc if at >= samples_from]
        return FidelitySnapshot(
            totals=totals,
            window=window,
            window_s=self.window_s,
            lateness_p99_s=_p99([late for at, late in self._lateness if at >= samples_from]),
            loop_lag_p99_s=_p99(lags),
            loop_lag_max_s=max(lags, default=0.0),
            cpu_percent=sum(cpu) / len(cpu) if cpu else 0.0,
            gc_pause_max_s=max(pauses, default=0.0),
            gc_pause_total_s=sum(pauses),
            warnings=self.warnings,
            run_loop_lag_p99_s=self.run_loop_lag_p99(),
            run_cpu_percent=self.run_cpu_percent(),
            lag_samples_over=sum(1 for lag in lags if lag > self.loop_lag_max_s),
            cpu_samples=len(cpu),
        )

    def judged_snapshot(self) -> FidelitySnapshot:
        """The snapshot the policy judges: the window without the start-up grace."""
        return self.snapshot(since=self._judge_from)

    def problems(self, snapshot: FidelitySnapshot | None = None) -> list[str]:
        """What the policy finds wrong in the recent window (empty when the load is faithful), each
        with the measured value and its limit."""
        snap = snapshot or self.judged_snapshot()
        found = []
        for kind, counts in sorted(snap.window.items()):
            if counts.due >= self.min_due and counts.on_time_ratio < self.on_time_min:
                found.append(
                    f"{kind} {100.0 * counts.on_time_ratio:.0f}% on time (limit {100.0 * self.on_time_min:g}%; "
                    f"{counts.on_time} of {counts.due} due; {counts.late} late, {counts.missed} missed)"
                )
        if snap.loop_lag_p99_s > self.loop_lag_max_s and snap.lag_samples_over >= LAG_SAMPLES_OVER:
            cause = ""
            if snap.gc_pause_max_s > self.loop_lag_max_s:
                cause = f"; garbage collector paused up to {1000.0 * snap.gc_pause_max_s:.0f} ms"
            found.append(
                f"event loop lag p99 {1000.0 * snap.loop_lag_p99_s:.0f} ms (limit {1000.0 * self.loop_lag_max_s:.0f} ms"
                f"{cause})"
            )
        if (
            self.cpu_max_percent is not None
            and snap.cpu_samples >= CPU_SAMPLES_MIN
            and snap.cpu_percent >= self.cpu_max_percent
        ):
            found.append(f"CPU {snap.cpu_percent:.0f}% of one core (limit {self.cpu_max_percent:g}%)")
        return found

    def warn(self, force: bool = False) -> str | None:
        """A one-line warning when this worker is falling behind, else None.

        Rate-limited to one per ``warn_every_s`` unless ``force``.
        """
        now = self.clock()
        if not force and self._last_warning is not None and now - self._last_warning < self.warn_every_s:
            return None
        message = self.describe()
        if message is None:
            return None
        self._last_warning = now
        self.warnings += 1
        return message

    def describe(self, snapshot: FidelitySnapshot | None = None) -> str | None:
        """The warning :meth:`warn` would give now, without counting or rate-limiting it (None when
        the load is faithful): for a display of the current state."""
        snap = snapshot or self.judged_snapshot()
        found = self.problems(snap)
        if not found:
            return None
        cpu = "" if any(part.startswith("CPU ") for part in found) else f"; CPU {snap.cpu_percent:.0f}%"
        return (
            f"load generator falling behind in the last {self.window_s:g} s: {'; '.join(found)}{cpu}. "
            f"Latencies now include the worker's own queueing: add workers or lower the load per worker"
        )
