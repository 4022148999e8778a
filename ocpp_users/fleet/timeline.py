"""The run over time: charge points by state and the load fidelity, one sample a second, bounded.

The process that shows the run (a master or a local runner) samples the fleet's counts once a
second from what it already has (its own O(1) counts, or the workers' latest reports: never a walk
of the charge points) and the fidelity view every :data:`FIDELITY_EVERY` samples. At most
:data:`MAX_POINTS` samples are kept: when full, every other one is dropped and the step doubles,
so a run of any length keeps its whole course (its start, the storms) at a coarser grain.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gevent

from ocpp_users.fleet.state import STATES

MAX_POINTS = 1000
FIDELITY_EVERY = 5
"""Samples between two readings of the fidelity view (it merges the workers' snapshots)."""
FIDELITY_FIELDS = ("heartbeat_on_time", "meter_values_on_time", "loop_lag_ms", "cpu_percent")
FIELDS = ("t", *STATES, "total", *FIDELITY_FIELDS)
"""What one sample holds, in this order (``t``: seconds since the test started)."""

Sample = tuple[float | None, ...]


@dataclass(frozen=True)
class Marker:
    """A storm on the time axis: from its broadcast (``start``) until all were done (``end``)."""

    start: float
    end: float | None
    label: str
    figure: str = ""
    """What it measured, e.g. "all 1000 booted after 3.412 s"."""


def fidelity_sample(view: dict[str, Any]) -> tuple[float | None, ...]:
    """(heartbeats on time %, meter values on time %, loop lag p99 ms, CPU %) from a fidelity view;
    an on-time ratio is None when nothing of that kind fell due in the window."""

    def on_time(kind: str) -> float | None:
        counts = (view.get("window") or {}).get(kind) or {}
        due = counts.get("due") or 0
        return round(100.0 * (counts.get("on_time") or 0) / due, 1) if due else None

    return (
        on_time("Heartbeat"),
        on_time("MeterValues"),
        round(1000.0 * float(view.get("loop_lag_p99_s") or 0.0), 1),
        round(float(view.get("cpu_percent") or 0.0), 1),
    )


class Timeline:
    """Samples of one test (cleared when the next starts)."""

    def __init__(self, max_points: int = MAX_POINTS, period: float = 1.0) -> None:
        self.max_points = max_points
        self.period = period
        self.step = period
        """Seconds between kept samples (doubles each time the samples are thinned)."""
        self.samples: list[Sample] = []
        self.t0 = time.monotonic()
        """``time.monotonic()`` at the start of the test: markers are placed relative to it."""
        self.started_at = time.time()
        self._sampler: gevent.Greenlet | None = None
        self._fidelity: tuple[float | None, ...] = (None,) * len(FIDELITY_FIELDS)

    def reset(self) -> None:
        self.samples = []
        self.step = self.period
        self.t0 = time.monotonic()
        self.started_at = time.time()
        self._fidelity = (None,) * len(FIDELITY_FIELDS)

    # ------------------------------------------------------------ sampling

    def add(
        self, counts: dict[str, int], fidelity: tuple[float | None, ...] | None = None, at: float | None = None
    ) -> None:
        """One sample of the counts (and the fidelity, when read this time) at ``at`` (monotonic)."""
        t = round((time.monotonic() if at is None else at) - self.t0, 2)
        if fidelity is not None:
            self._fidelity = fidelity
        if self.samples:
            last_t = self.samples[-1][0] or 0.0
            if t - last_t < self.step - 1e-6:
                return
        sample: Sample = (t, *(counts.get(s, 0) for s in STATES), counts.get("total", 0), *self._fidelity)
        self.samples.append(sample)
        if len(self.samples) > self.max_points:
            self.samples = self.samples[::2]
            self.step *= 2

    def start(
        self, counts: Callable[[], dict[str, int]], fidelity: Callable[[], tuple[float | None, ...]] | None = None
    ) -> None:
        """Sample every :attr:`period` seconds until :meth:`stop` (a new test starts anew)."""
        self.stop(final=None)
        self.reset()

        def loop() -> None:
            n = 0
            while True:
                reading = fidelity() if fidelity is not None and n % FIDELITY_EVERY == 0 else None
                self.add(counts(), reading)
                n += 1
                gevent.sleep(self.period)

        self._sampler = gevent.spawn(loop)

    def stop(self, final: dict[str, int] | None = None) -> None:
        sampler, self._sampler = self._sampler, None
        if sampler is not None:
            sampler.kill(block=False)
        if final is not None:
            saved, self.step = self.step, 0.0
            self.add(final)
            self.step = saved

    @property
    def running(self) -> bool:
        return self._sampler is not None and not self._sampler.dead

    # ------------------------------------------------------------ reading

    def times(self) -> list[float]:
        return [float(sample[0] or 0.0) for sample in self.samples]

    def series(self, name: str) -> list[float | None]:
        index = FIELDS.index(name)
        return [sample[index] for sample in self.samples]
