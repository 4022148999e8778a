"""The load-fidelity tracker (ocpp_users/fidelity.py): due vs sent-on-time counting, the window,
loop lag / CPU / GC samples and the warning policy. A fake clock drives the counting; the sampler
is exercised for real on gevent."""

from __future__ import annotations

import gc
import time

import gevent

from ocpp_users.fleet.fidelity import FidelityTracker, KindCounts


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def tracker(clock: FakeClock, **options) -> FidelityTracker:
    options.setdefault("tolerance_s", 1.0)
    options.setdefault("window_s", 30.0)
    options.setdefault("min_due", 10)
    return FidelityTracker(clock=clock, cpu_clock=lambda: 0.0, **options)


def test_sent_within_tolerance_is_on_time_and_later_is_late() -> None:
    clock = FakeClock()
    t = tracker(clock)
    t.scheduled("Heartbeat", clock.now)
    assert t.sent("Heartbeat", clock.now, clock.now + 0.5) is True
    t.scheduled("Heartbeat", clock.now)
    assert t.sent("Heartbeat", clock.now, clock.now + 1.5) is False
    counts = t.snapshot().totals["Heartbeat"]
    assert (counts.due, counts.on_time, counts.late, counts.missed) == (2, 1, 1, 0)
    assert counts.max_lateness_s == 1.5
    assert counts.on_time_ratio == 0.5


def test_missed_messages_count_as_due_and_missed() -> None:
    clock = FakeClock()
    t = tracker(clock)
    t.missed("MeterValues", 3)
    t.missed("MeterValues", 0)
    counts = t.snapshot().totals["MeterValues"]
    assert (counts.due, counts.missed, counts.sent) == (3, 3, 0)
    assert counts.on_time_ratio == 0.0


def test_periodic_measures_lateness_from_the_previous_send() -> None:
    clock = FakeClock()
    t = tracker(clock)
    assert t.periodic("Heartbeat", None, 60.0) is True  # the first is on time by definition
    first = clock.now
    clock.advance(60.4)
    assert t.periodic("Heartbeat", first, 60.0) is True
    second = clock.now
    clock.advance(63.0)
    assert t.periodic("Heartbeat", second, 60.0) is False
    counts = t.snapshot().totals["Heartbeat"]
    assert (counts.due, counts.on_time, counts.late) == (3, 2, 1)
    assert abs(counts.max_lateness_s - 3.0) < 1e-9


def test_kinds_are_counted_separately() -> None:
    clock = FakeClock()
    t = tracker(clock)
    for kind in ("Heartbeat", "MeterValues", "MeterValues"):
        t.scheduled(kind, clock.now)
        t.sent(kind, clock.now)
    totals = t.snapshot().totals
    assert totals["Heartbeat"].due == 1
    assert totals["MeterValues"].due == 2


def test_the_window_forgets_old_seconds_but_totals_do_not() -> None:
    clock = FakeClock()
    t = tracker(clock, window_s=10.0)
    for _ in range(20):
        t.scheduled("Heartbeat", clock.now - 5)
        t.sent("Heartbeat", clock.now - 5)  # 5 s late
    clock.advance(30.0)
    for _ in range(20):
        t.scheduled("Heartbeat", clock.now)
        t.sent("Heartbeat", clock.now)
    snap = t.snapshot()
    assert snap.totals["Heartbeat"].due == 40
    assert snap.totals["Heartbeat"].late == 20
    assert snap.window["Heartbeat"].due == 20
    assert snap.window["Heartbeat"].late == 0
    assert t.warn() is None


def test_warn_names_the_kind_that_falls_behind() -> None:
    clock = FakeClock()
    t = tracker(clock)
    for i in range(100):
        t.scheduled("MeterValues", clock.now)
        t.sent("MeterValues", clock.now, clock.now + (5.0 if i % 2 else 0.0))
    message = t.warn()
    assert message is not None
    assert "falling behind" in message
    assert "MeterValues 50% on time (limit 95%; 50 of 100 due; 50 late, 0 missed)" in message
    assert t.snapshot().warnings == 1


def test_warn_needs_enough_due_messages() -> None:
    clock = FakeClock()
    t = tracker(clock, min_due=50)
    for _ in range(10):
        t.scheduled("Heartbeat", clock.now)
        t.sent("Heartbeat", clock.now, clock.now + 10.0)
    assert t.problems() == []
    assert t.warn() is None


def test_warnings_are_rate_limited_unless_forced() -> None:
    clock = FakeClock()
    t = tracker(clock, warn_every_s=60.0)
    t.missed("Heartbeat", 100)
    assert t.warn() is not None
    clock.advance(10.0)
    t.missed("Heartbeat", 100)
    assert t.warn() is None
    assert t.warn(force=True) is not None
    assert t.describe() is not None and t.warnings == 2  # the current state, not counted
    clock.advance(61.0)
    t.missed("Heartbeat", 100)
    assert t.warn() is not None
    assert t.warnings == 3


def test_loop_lag_alone_triggers_a_warning_and_gc_is_named_as_its_cause() -> None:
    clock = FakeClock()
    t = tracker(clock, loop_lag_max_s=0.1)
    for _ in range(50):
        t.record_loop_lag(0.001)
    t.record_cpu(97.0)
    assert t.warn(force=True) is None
    for _ in range(10):
        t.record_loop_lag(0.4)
    t.record_gc_pause(0.35)
    message = t.warn(force=True)
    assert message is not None
    assert "event loop lag p99 400 ms (limit 100 ms" in message
    assert "garbage collector paused up to 350 ms" in message
    assert "CPU 97%" in message


def test_saturated_cpu_warns_only_when_asked_to() -> None:
    clock = FakeClock()
    t = tracker(clock, cpu_max_percent=95.0)
    t.record_cpu(60.0)
    assert t.warn(force=True) is None
    t.record_cpu(99.0)
    t.record_cpu(99.0)
    t.record_cpu(99.0)  # mean 89%
    assert t.warn(force=True) is None
    for _ in range(6):
        t.record_cpu(100.0)  # mean 95.7%
    message = t.warn(force=True)
    assert message is not None
    assert "CPU 96% of one core (limit 95%)" in message
    assert tracker(clock).problems(t.snapshot()) == []  # without cpu_max_percent CPU alone never warns


def test_snapshot_as_dict_is_json_ready() -> None:
    clock = FakeClock()
    t = tracker(clock)
    t.scheduled("Heartbeat", clock.now)
    t.sent("Heartbeat", clock.now)
    data = t.snapshot().as_dict()
    assert data["totals"]["Heartbeat"] == {
        "due": 1,
        "on_time": 1,
        "late": 0,
        "missed": 0,
        "on_time_ratio": 1.0,
        "max_lateness_s": 0.0,
    }
    assert set(data) >= {"window", "loop_lag_p99_s", "cpu_percent", "gc_pause_max_s", "lateness_p99_s"}


def test_kind_counts_add() -> None:
    a = KindCounts(due=3, on_time=2, late=1, max_lateness_s=2.0)
    a.add(KindCounts(due=2, missed=2, max_lateness_s=1.0))
    assert (a.due, a.on_time, a.late, a.missed, a.max_lateness_s) == (5, 2, 1, 2, 2.0)


def test_sampler_measures_loop_lag_cpu_and_gc_on_gevent() -> None:
    t = FidelityTracker(window_s=10.0)
    t.start_sampling(period_s=0.02, cpu_period_s=0.1)
    try:
        gevent.sleep(0.15)
        busy_until = time.perf_counter() + 0.25
        while time.perf_counter() < busy_until:  # hog the loop: the sampler wakes up late
            pass
        gc.collect()
        gevent.sleep(0.25)
        snap = t.snapshot()
    finally:
        t.stop_sampling()
    assert snap.loop_lag_max_s >= 0.15
    assert snap.cpu_percent > 0.0
    assert snap.gc_pause_total_s > 0.0
    assert t._on_gc not in gc.callbacks


def test_a_single_late_wakeup_is_no_verdict_two_are() -> None:
    clock = FakeClock()
    t = tracker(clock, loop_lag_max_s=0.1)
    for _ in range(20):
        t.record_loop_lag(0.001)
    t.record_loop_lag(0.5)  # one hiccup: p99 of 21 samples is that one, yet it says nothing of the run
    assert t.problems() == []
    t.record_loop_lag(0.5)
    message = t.warn(force=True)
    assert message is not None and "event loop lag p99 500 ms (limit 100 ms)" in message


def test_the_start_up_and_the_freeze_after_spawning_are_not_judged() -> None:
    clock = FakeClock()
    t = tracker(clock, loop_lag_max_s=0.1, start_grace_s=2.0, cpu_max_percent=95.0)
    t.start_sampling(period_s=3600.0, cpu_period_s=3600.0, track_gc=False)  # (the sampler never wakes here)
    try:
        for _ in range(5):
            t.record_loop_lag(0.5)  # imports, schema compilation, the first connections
            t.record_cpu(100.0)
        assert t.warn(force=True) is None
        clock.advance(2.5)
        t.restart_run_figures()  # spawning complete: collect and freeze, a pause of our own
        t.record_loop_lag(0.4)
        t.record_loop_lag(0.4)
        assert t.warn(force=True) is None
        clock.advance(2.5)
        t.record_loop_lag(0.3)
        t.record_loop_lag(0.3)
        message = t.warn(force=True)
        assert message is not None and "event loop lag p99 300 ms (limit 100 ms)" in message
        assert "CPU 100%" not in message  # the start-up's CPU samples are not judged either
    finally:
        t.stop_sampling()
