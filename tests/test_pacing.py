"""The pacer (``ocpp_users.ocppj.pacing``): waiters wake at their due time, in due order, never
before it (beyond the shared wake-up's slack), an event ends a wait early, and a killed waiter
leaves nothing that harms the others. How evenly sends leave is a figure, not a test:
``python -m benchmarks.bunching``."""

from __future__ import annotations

import os
import time

import gevent
import gevent.event
import locust  # noqa: F401  # gevent monkey-patching first
import pytest

from ocpp_users.ocppj import pacing

pytestmark = pytest.mark.skipif(pacing._libc is None, reason="no timerfd (not Linux)")


def test_waiters_wake_in_due_order_and_not_early() -> None:
    start = time.monotonic() + 0.02
    # Due 300 microseconds apart, spawned in reverse: the heap, not the spawn order, decides.
    dues = [start + k * 0.0003 for k in range(12)]
    woke: list[tuple[float, float]] = []

    def sleeper(due: float) -> None:
        pacing.sleep_until(due)
        woke.append((due, time.monotonic()))

    gevent.joinall([gevent.spawn(sleeper, due) for due in reversed(dues)], timeout=5)
    assert [due for due, _ in woke] == dues
    for due, at in woke:
        assert at >= due - pacing.SLACK_S, f"woke {(due - at) * 1e6:.0f} us before its due time"


def test_a_due_time_already_past_returns_without_yielding() -> None:
    ran: list[str] = []
    gevent.spawn(ran.append, "other")
    pacing.sleep_until(time.monotonic() - 1.0)
    assert ran == []  # the other greenlet has not run: no switch happened
    gevent.sleep(0)
    assert ran == ["other"]


def test_wait_ends_early_when_the_event_is_set() -> None:
    event = gevent.event.Event()
    gevent.spawn_later(0.01, event.set)
    began = time.monotonic()
    assert pacing.wait(event, 5.0) is True
    assert time.monotonic() - began < 4.0


def test_wait_set_during_the_pacer_stretch() -> None:
    """The event arrives within the last :data:`pacing.COARSE_MARGIN_S`, when the pacer holds the
    wait: it still ends the wait, and the timer's later wake-up harms no one."""
    event = gevent.event.Event()
    timeout = pacing.COARSE_MARGIN_S * 0.9  # all of it on the pacer
    gevent.get_hub().loop.run_callback(event.set)
    assert pacing.wait(event, timeout) is True
    other = gevent.event.Event()
    assert pacing.wait(other, 0.005) is False  # the stale entry's wake-up is not this waiter's


def test_wait_times_out_false_and_reports_an_event_set_before() -> None:
    event = gevent.event.Event()
    began = time.monotonic()
    assert pacing.wait(event, 0.01) is False
    assert time.monotonic() - began >= 0.01 - pacing.SLACK_S
    event.set()
    assert pacing.wait(event, 0.01) is True
    assert pacing.wait(event, 0.0) is True


def test_wait_without_a_timeout_waits_for_the_event() -> None:
    event = gevent.event.Event()
    gevent.spawn_later(0.01, event.set)
    assert pacing.wait(event, None) is True


def test_a_killed_waiter_leaves_the_others_on_time() -> None:
    now = time.monotonic()
    victim = gevent.spawn(pacing.sleep_until, now + 0.01)
    woke: list[float] = []

    def sleeper() -> None:
        pacing.sleep_until(now + 0.03)
        woke.append(time.monotonic())

    survivor = gevent.spawn(sleeper)
    gevent.sleep(0.001)
    victim.kill()
    assert victim.dead
    survivor.join(timeout=5)
    assert woke and woke[0] >= now + 0.03 - pacing.SLACK_S


def test_without_timerfd_it_falls_back_to_the_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pacing, "_libc", None)
    monkeypatch.setattr(pacing, "_pacers", {})
    due = time.monotonic() + 0.01
    pacing.sleep_until(due)
    assert time.monotonic() >= due
    event = gevent.event.Event()
    assert pacing.wait(event, 0.01) is False
    assert pacing._pacers == {}


def test_tick_pacing_waits_on_the_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """``--pacing tick``: the loop's own timers, no kernel timer made."""
    monkeypatch.setattr(pacing, "_pacers", {})
    pacing.set_precise(False)
    try:
        due = time.monotonic() + 0.005
        pacing.sleep_until(due)
        assert time.monotonic() >= due
        assert pacing.wait(gevent.event.Event(), 0.001) is False
        assert pacing._pacers == {}
    finally:
        pacing.set_precise(True)
    pacing.sleep_until(time.monotonic() + 0.001)
    assert list(pacing._pacers) == [gevent.get_hub()]


def test_one_timer_for_every_greenlet_of_a_loop() -> None:
    due = time.monotonic() + 0.005
    gevent.joinall([gevent.spawn(pacing.sleep_until, due + k * 1e-4) for k in range(5)], timeout=5)
    assert list(pacing._pacers) == [gevent.get_hub()]


def _timer_setting(fd: int) -> str:
    with open(f"/proc/self/fdinfo/{fd}") as info:
        return next(line for line in info if line.startswith("it_value:"))


def test_a_forked_child_arms_a_timer_of_its_own() -> None:
    """A timerfd inherited over fork() is the parent's timer: the child arming it would move the
    parent's. The child's waits take a timer of their own."""
    pacing.sleep_until(time.monotonic() + 0.001)  # this process's pacer exists
    gevent.sleep(0.005)  # and its wake-up has disarmed it (nothing else waits)
    fd = pacing._pacers[gevent.get_hub()]._fd
    assert "(0, 0)" in _timer_setting(fd)
    read, write = os.pipe()
    pid = gevent.fork()
    if pid == 0:  # the child: a wait far ahead arms its timer; then a short one must still work
        ok = b"0"
        try:
            gevent.spawn(pacing.sleep_until, time.monotonic() + 100.0)
            gevent.sleep(0.01)
            pacing.sleep_until(time.monotonic() + 0.005)
            gevent.sleep(0.01)  # the wake-up's re-arm (for the wait far ahead) is done
            ok = b"1"
        finally:
            os.write(write, ok)
            os._exit(0)
    os.close(write)
    answer = os.read(read, 1)
    os.close(read)
    os.waitpid(pid, 0)
    assert answer == b"1"
    assert "(0, 0)" in _timer_setting(fd), "the child armed the parent's timer"
    pacing.sleep_until(time.monotonic() + 0.002)  # the parent's timer still works
