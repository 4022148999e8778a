"""The pacer (``ocpp_users.ocppj.pacing``): waiters wake at their due time, in due order, never
before it (beyond the shared wake-up's slack), an event ends a wait early, and a killed waiter
leaves nothing that harms the others. How evenly sends leave is a figure, not a test:
``python -m benchmarks.bunching``."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time

import gevent
import gevent.event
import locust  # noqa: F401  # gevent monkey-patching first
import pytest

from ocpp_users.ocppj import pacing

pytestmark = pytest.mark.skipif(pacing._libc is None, reason="no timerfd (not Linux)")


def _sleep_and_note(due: float, woke: list[float]) -> None:
    """Sleep until ``due`` on the pacer, then note when it woke."""
    pacing.sleep_until(due)
    woke.append(time.monotonic())


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


def test_an_event_set_from_the_hub_ends_a_short_wait() -> None:
    """The event ends a wait the pacer holds; the entry it leaves harms no later waiter."""
    event = gevent.event.Event()
    timeout = 0.0018
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
    survivor = gevent.spawn(_sleep_and_note, now + 0.03, woke)
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
    ready, _, _ = select.select([read], [], [], 30)
    answer = os.read(read, 1) if ready else b""
    os.close(read)
    if not ready:
        os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    assert answer == b"1"
    assert "(0, 0)" in _timer_setting(fd), "the child armed the parent's timer"
    pacing.sleep_until(time.monotonic() + 0.002)  # the parent's timer still works


def _armed_in(fd: int) -> float:
    """Seconds until the kernel timer fires, as the kernel reports it (0: disarmed)."""
    seconds, nanoseconds = _timer_setting(fd).split("(")[1].rstrip(")\n").split(",")
    return int(seconds) + int(nanoseconds) / 1e9


def test_the_timer_is_armed_for_the_earliest_waiter() -> None:
    now = time.monotonic()
    late = gevent.spawn(pacing.sleep_until, now + 0.5)
    gevent.sleep(0)
    fd = pacing._pacers[gevent.get_hub()]._fd
    assert 0.3 < _armed_in(fd) <= 0.5
    early = gevent.spawn(pacing.sleep_until, now + 0.2)
    gevent.sleep(0)
    assert 0.0 < _armed_in(fd) <= 0.2  # moved forward for the earlier waiter
    early.join(timeout=5)
    gevent.sleep(0.001)
    assert 0.1 < _armed_in(fd) <= 0.3  # and on to the next one once it woke
    late.join(timeout=5)
    gevent.sleep(0.001)
    assert _armed_in(fd) == 0.0  # nobody waits: disarmed


def test_an_error_inside_a_wake_up_leaves_the_queued_waiters_on_time() -> None:
    """A wake-up that raises is reported, not raised into the loop (gevent would stop the watcher,
    and a waiter already queued would sleep until some new wait came along)."""
    import heapq

    now = time.monotonic()
    woke: list[float] = []
    waiter = gevent.spawn(_sleep_and_note, now + 0.05, woke)
    gevent.sleep(0)
    pacer = pacing._pacers[gevent.get_hub()]

    class Broken:
        def switch(self, value: object) -> None:
            raise RuntimeError("a broken waiter")

    heapq.heappush(pacer._heap, [now + 0.01, -1, Broken()])  # an entry as the pacer makes them
    pacer._live += 1
    pacer._arm(now + 0.01)
    waiter.join(timeout=2)  # nothing else waits: only the pacer can wake it
    assert woke and woke[0] >= now + 0.05 - pacing.SLACK_S
    assert pacer._watcher.active


def test_a_wait_of_years_keeps_the_pacer_for_everyone_else() -> None:
    """A CSMS may send an interval of 10**19 seconds: that wait is armed at the far end of the
    kernel's range, not refused (a refused arm would turn pacing off for the whole process)."""
    sleeper = gevent.spawn(pacing.wait, gevent.event.Event(), 1e19)
    gevent.sleep(0.001)
    assert pacing._pacer() is not None
    due = time.monotonic() + 0.01
    pacing.sleep_until(due)
    assert time.monotonic() >= due - pacing.SLACK_S
    assert pacing._pacer() is not None
    sleeper.kill()


def test_a_failed_timer_falls_back_to_the_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """``timerfd_settime`` failing: waiters finish their waits on the loop's timers, never early,
    and later waits do not use that pacer."""
    monkeypatch.setattr(pacing, "_pacers", pacing.weakref.WeakKeyDictionary())
    pacer = pacing._pacer()
    assert pacer is not None

    class FailingLibc:
        def __getattr__(self, name: str) -> object:
            return getattr(pacing._libc, name)

        @staticmethod
        def timerfd_settime(*args: object) -> int:
            return -1

    woke: list[float] = []
    due = time.monotonic() + 0.02

    def sleeper() -> None:
        pacing.sleep_until(due)
        woke.append(time.monotonic())

    monkeypatch.setattr(pacer, "_libc", FailingLibc())
    gevent.spawn(sleeper).join(timeout=2)
    assert pacer.failed
    assert woke and woke[0] >= due
    assert pacing._pacer() is None
    event = gevent.event.Event()
    assert pacing.wait(event, 0.005) is False


def test_an_idle_pacer_does_not_keep_the_loop_alive() -> None:
    """A greenlet blocked for ever still gets gevent's LoopExit at once once the pacer is idle."""
    script = (
        "import locust, time, gevent.event\n"
        "from gevent.exceptions import LoopExit\n"
        "from ocpp_users.ocppj import pacing\n"
        "pacing.sleep_until(time.monotonic() + 0.001)\n"
        "try:\n"
        "    gevent.event.Event().wait()\n"
        "except LoopExit:\n"
        "    print('LoopExit')\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert "LoopExit" in result.stdout, result.stdout + result.stderr


def test_a_forked_child_leaves_the_parents_waiters_on_time() -> None:
    """A child that makes no paced wait of its own still inherits the parent's timer and watcher:
    its loop must not take the parent's wake-ups (the parent's waiter then woke late or never)."""
    script = (
        "import locust, os, time, gevent\n"
        "from ocpp_users.ocppj import pacing\n"
        "t0 = time.monotonic()\n"
        "gevent.spawn(pacing.sleep_until, t0 + 0.5)\n"
        "gevent.sleep(0.01)\n"
        "pid = gevent.fork()\n"
        "if pid == 0:\n"
        "    gevent.sleep(1.0)\n"
        "    os._exit(0)\n"
        "woke = []\n"
        "def b():\n"
        "    pacing.sleep_until(t0 + 0.2)\n"
        "    woke.append(time.monotonic() - t0)\n"
        "g = gevent.spawn(b)\n"
        "gevent.sleep(0.14)\n"
        "x = time.monotonic()\n"
        "while time.monotonic() - x < 0.11:\n"
        "    pass\n"
        "g.join(timeout=2)\n"
        "print('woke', woke[0] if woke else 'never')\n"
        "os.waitpid(pid, 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    words = result.stdout.split()
    assert words[:1] == ["woke"], result.stdout + result.stderr
    assert words[1] != "never" and float(words[1]) < 0.45, result.stdout


def test_wait_reports_an_event_set_and_cleared_during_it_as_event_wait_does() -> None:
    def set_then_clear(event: gevent.event.Event) -> None:
        event.set()
        event.clear()

    answers = []
    for waiting in (lambda e: bool(e.wait(0.001)), lambda e: pacing.wait(e, 0.001)):
        event = gevent.event.Event()
        gevent.get_hub().loop.run_callback(set_then_clear, event)
        answers.append(waiting(event))
    assert answers == [True, True]


def test_a_wait_ended_early_leaves_no_armed_timer_behind() -> None:
    """A long wait that its event (or a kill) ends is dropped, and the timer disarmed: no wake-up
    an hour later, no entry kept that long."""
    pacing.sleep_until(time.monotonic() + 0.001)
    pacer = pacing._pacers[gevent.get_hub()]
    event = gevent.event.Event()
    gevent.spawn_later(0.01, event.set)
    assert pacing.wait(event, 3600.0) is True
    sleeper = gevent.spawn(pacing.sleep_until, time.monotonic() + 3600.0)
    gevent.sleep(0.005)
    assert 3500 < _armed_in(pacer._fd) <= 3600
    sleeper.kill()
    assert pacer._heap == []
    assert _armed_in(pacer._fd) == 0.0


def test_waits_ended_behind_a_live_one_neither_linger_nor_hold_the_loop() -> None:
    """Hundreds of long waits ended by their events (a fleet stopping) behind one live waiter: once
    it woke, nothing is left armed and gevent's LoopExit comes at once."""
    script = (
        "import locust, time, gevent, gevent.event\n"
        "from gevent.exceptions import LoopExit\n"
        "from ocpp_users.ocppj import pacing\n"
        "front = gevent.spawn(pacing.sleep_until, time.monotonic() + 0.3)\n"
        "events = [gevent.event.Event() for _ in range(500)]\n"
        "waits = [gevent.spawn(pacing.wait, e, 3600.0 + k * 1e-3) for k, e in enumerate(events)]\n"
        "gevent.sleep(0.05)\n"
        "for e in events:\n"
        "    e.set()\n"
        "gevent.joinall(waits, timeout=10)\n"
        "front.join(timeout=10)\n"
        "gevent.sleep(0.01)\n"
        "pacer = pacing._pacers[gevent.get_hub()]\n"
        "print('heap', len(pacer._heap))\n"
        "try:\n"
        "    gevent.event.Event().wait()\n"
        "except LoopExit:\n"
        "    print('LoopExit')\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == ["heap", "0", "LoopExit"], result.stdout + result.stderr


def _resume_order(
    dues: dict[str, float],
    busy_s: dict[str, float] | None = None,
    hold_until: float = 0.0,
    resumed: dict[str, float] | None = None,
) -> list[str]:
    """Waiters named by ``dues`` (name: due time); each, on waking, keeps the loop ``busy_s[name]``
    seconds (a CPU-bound stretch, no yield), then starts a greenlet that notes it. The order of the
    notes shows whether the loop turned between two waiters (a greenlet started by one runs before
    the next resumes) or not. With ``hold_until``, this greenlet keeps the loop busy until then
    once they all wait, so that they are all late when the timer's wake-up comes. ``resumed``, if
    given, receives when each resumed. A machine that stalls past the due times before they all
    wait skips the test: it could not show the order."""
    busy_s = busy_s or {}
    notes: list[str] = []
    woke = resumed if resumed is not None else {}

    def sleeper(name: str) -> None:
        pacing.sleep_until(dues[name])
        woke[name] = time.monotonic()
        notes.append(name)
        end = time.monotonic() + busy_s.get(name, 0.0)
        while time.monotonic() < end:
            pass
        gevent.spawn(notes.append, f"after {name}")

    greenlets = [gevent.spawn(sleeper, name) for name in dues]
    gevent.sleep(0)  # each is waiting on the pacer now (or, on a very slow machine, already past: see below)
    if time.monotonic() >= min(dues.values()):
        pytest.skip("the machine stalled past the due times before the waiters waited")
    while time.monotonic() < hold_until:
        pass
    gevent.joinall(greenlets, timeout=10)
    gevent.sleep(0.01)
    return notes


def test_waiters_due_together_resume_one_loop_turn_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    """Back to back, a busy loop's waiters would send as one burst, the CSMS would be awake for all
    but the first, and the harness would report round trips shorter than a real fleet's."""
    monkeypatch.setattr(pacing, "_catch_up_s", 60.0)  # however slow this machine, none is "far behind"
    due = time.monotonic() + 0.3
    order = _resume_order({"a": due, "b": due, "c": due})
    assert order == ["a", "after a", "b", "after b", "c", "after c"]


def test_waiters_far_behind_their_schedule_catch_up_together(monkeypatch: pytest.MonkeyPatch) -> None:
    """A loop behind its schedule by more than CATCH_UP_S sends what is late without waiting for
    further turns: near saturation, one message per turn would fall further behind. One less late
    than that still waits for its turn."""
    monkeypatch.setattr(pacing, "_catch_up_s", 0.45)
    due = time.monotonic() + 0.3
    # The loop is held until due + 0.6: a and b are then 0.6 s late, c 0.3 s (less than CATCH_UP_S).
    resumed: dict[str, float] = {}
    order = _resume_order({"a": due, "b": due, "c": due + 0.3}, hold_until=due + 0.6, resumed=resumed)
    if resumed["b"] - (due + 0.3) >= 0.45:
        pytest.skip("the machine stalled: c was far behind too by the time b had run")
    assert order == ["a", "b", "after a", "after b", "c", "after c"]


def test_catching_up_never_chains_into_waiters_due_after_the_wake_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """However far behind the loop is, one wake-up resumes only waiters already due when it came:
    one that fell due while the first ran (b, due 100 ms later; a runs for 200 ms) waits for the next
    turn. Otherwise a loop that stays behind would resume waiter after waiter and read no socket."""
    monkeypatch.setattr(pacing, "_catch_up_s", 0.0)  # everything due is "far behind"
    due = time.monotonic() + 0.3
    resumed: dict[str, float] = {}
    order = _resume_order({"a": due, "b": due + 0.1}, busy_s={"a": 0.2}, resumed=resumed)
    if resumed["a"] >= due + 0.1:
        pytest.skip("the machine stalled: b was already due at the wake-up that resumed a")
    assert order == ["a", "after a", "b", "after b"]


def test_batched_pacing_resumes_waiters_due_together_back_to_back() -> None:
    """``--pacing batch``: what fell due by a wake-up resumes on it, as before the turn-apart pacing
    (less CPU per message at thousands a second, a burstier load)."""
    pacing.set_batched(True)
    try:
        due = time.monotonic() + 0.3
        order = _resume_order({"a": due, "b": due, "c": due})
    finally:
        pacing.set_batched(False)
    assert order == ["a", "b", "c", "after a", "after b", "after c"]
