"""Wake at a due time to the microsecond, not on the event loop's millisecond tick.

gevent's default loop (libev, epoll backend) waits in whole milliseconds: ``epoll_wait`` takes its
timeout in ms, and libev rounds every wait up to at least one. Every sleep that ends within the
same millisecond therefore ends at the same moment, and charge points due 250 microseconds apart
send together, in a bunch, once a millisecond. A CSMS then sees a burstier load than the one
offered: the second message of a bunch finds it awake, a lone one pays its wake-up, and the round
trips the harness reports are not the ones an evenly paced client would get.

:func:`sleep_until` and :func:`wait` hand the wait (or its last stretch) to one kernel timer per
thread (a Linux ``timerfd``, nanosecond resolution), armed for the earliest waiter only. The event
loop wakes when that file becomes readable, whatever its own timeout, and the waiters due by then
resume in due order. The cost is per wake-up: a heap
push and pop and, when the earliest due time changes, one ``timerfd_settime``; nothing walks the
waiters on a timer. Waking once per send costs more CPU than waking once per millisecond (the
process sleeps and wakes more often); ``benchmarks/latency.py`` reports the harness's CPU per rate.
Without ``timerfd`` (not Linux) these are ``gevent.sleep`` and ``Event.wait``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import heapq
import itertools
import os
import time
from typing import Any

import gevent
from gevent.event import Event
from gevent.hub import Waiter

COARSE_MARGIN_S = 0.002
""":func:`wait` waits on the loop's own timer until this long before its end (libev may end that
up to about a millisecond late), then on the pacer."""
SLACK_S = 0.000_010
"""Waiters due within this of the one that woke the timer resume with it (one wake-up, not two)."""

_CLOCK_MONOTONIC = 1
"""``time.monotonic()`` reads this clock on Linux."""
_TFD_TIMER_ABSTIME = 1
_TFD_CLOEXEC = 0o2000000
_TFD_NONBLOCK = 0o4000


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


class _Itimerspec(ctypes.Structure):
    _fields_ = [("it_interval", _Timespec), ("it_value", _Timespec)]


def _load_libc() -> Any:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.timerfd_create.argtypes = (ctypes.c_int, ctypes.c_int)
        libc.timerfd_settime.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)
    except (OSError, AttributeError):
        return None
    return libc


_libc = _load_libc()


class Pacer:
    """One event loop's precise waiters: a heap of (due, order, waiter) and the timerfd armed for
    the first of them."""

    def __init__(self, libc: Any) -> None:
        self._libc = libc
        self._spec = _Itimerspec()
        self._spec_ref = ctypes.byref(self._spec)
        self._heap: list[tuple[float, int, Waiter[Any]]] = []
        self._order = itertools.count()
        self._armed_at = float("inf")
        self._fd = -1
        self._watcher: Any = None
        self._open()

    def _open(self) -> None:
        fd = self._libc.timerfd_create(_CLOCK_MONOTONIC, _TFD_CLOEXEC | _TFD_NONBLOCK)
        if fd < 0:
            raise OSError(ctypes.get_errno(), "timerfd_create failed")
        self._fd = fd
        self._watcher = gevent.get_hub().loop.io(fd, 1)
        self._watcher.start(self._fire)
        self._armed_at = float("inf")
        if self._heap:
            self._arm(self._heap[0][0])

    def reopen(self) -> None:
        """In a forked child: the timer file is shared with the parent (arming it would move the
        parent's timer); take one of this process's own, keeping the waiters."""
        self._watcher.stop()
        os.close(self._fd)
        self._open()

    def _arm(self, due: float) -> None:
        """Arm the kernel timer for ``due`` (``time.monotonic()`` seconds; 0: disarm)."""
        value = self._spec.it_value
        whole = int(due)
        value.tv_sec = whole
        value.tv_nsec = int((due - whole) * 1e9) if due > 0 else 0
        self._libc.timerfd_settime(self._fd, _TFD_TIMER_ABSTIME, self._spec_ref, None)
        self._armed_at = due if due > 0 else float("inf")

    def wait_until(self, due: float, event: Event | None) -> bool:
        """Block the calling greenlet until ``due`` (``time.monotonic()`` seconds) or until
        ``event`` is set; return whether the event is set."""
        waiter: Waiter[Any] = Waiter()
        heapq.heappush(self._heap, (due, next(self._order), waiter))
        if due < self._armed_at:
            self._arm(due)
        if event is None:
            waiter.get()  # a kill while waiting leaves the entry; its wake-up finds no one waiting
            return False

        def woken(_: object) -> None:  # run in the hub, as the timer's wake-up is
            waiter.switch(None)

        event.rawlink(woken)
        try:
            waiter.get()  # woken by the first of the two; the other then finds no one waiting
        finally:
            event.unlink(woken)
        return bool(event.is_set())

    def _fire(self) -> None:
        """The timer expired (in the hub): resume every waiter due by now, re-arm for the next."""
        heap = self._heap
        horizon = time.monotonic() + SLACK_S
        while heap and heap[0][0] <= horizon:
            heapq.heappop(heap)[2].switch(None)
        # The next one (or nothing). Arming also clears the expiry that made the file readable; a
        # timer armed for a due time already past fires at once.
        self._arm(heap[0][0] if heap else 0.0)


_precise = True
"""False (``--pacing tick``): :func:`sleep_until` and :func:`wait` are the loop's own timers."""


def set_precise(enabled: bool) -> None:
    """Pace this process's timed waits to the microsecond (the default) or on the loop's tick."""
    global _precise
    _precise = enabled


_pacers: dict[object, Pacer] = {}
"""One pacer per gevent hub (per thread running an event loop), made on first use."""
_forked = False


def _after_fork_in_child() -> None:
    global _forked
    _forked = True


os.register_at_fork(after_in_child=_after_fork_in_child)


def _pacer() -> Pacer | None:
    """This event loop's pacer, or None where there is no ``timerfd``. (Not ``threading.local``:
    monkey-patched, that is one per greenlet.)"""
    global _forked
    hub = gevent.get_hub()
    if _forked:  # only the forking thread lives on in the child; its pacer takes a timer of its own
        _forked = False
        kept = _pacers.get(hub)
        _pacers.clear()
        if kept is not None:
            kept.reopen()
            _pacers[hub] = kept
    pacer = _pacers.get(hub)
    if pacer is None and _libc is not None:
        try:
            pacer = _pacers[hub] = Pacer(_libc)
        except OSError:
            return None
    return pacer


def sleep_until(due: float) -> None:
    """Sleep the calling greenlet until ``due`` (``time.monotonic()`` seconds), to the microsecond.
    A due time already past returns at once, without yielding. For loops that send on a schedule:
    the whole wait is the pacer's (one wake-up, not two)."""
    if due <= time.monotonic():
        return
    pacer = _pacer() if _precise else None
    if pacer is None:
        gevent.sleep(max(0.0, due - time.monotonic()))
        return
    pacer.wait_until(due, None)


def wait(event: Event, timeout: float | None) -> bool:
    """``event.wait(timeout)`` with its timeout kept to the microsecond: True when the event is set
    (at once or during the wait), False when the timeout passed first. The wait is the loop's own
    until :data:`COARSE_MARGIN_S` before the end (an event usually ends a long wait early, and
    then nothing is left behind), the rest the pacer's."""
    if timeout is None or not _precise:
        return bool(event.wait(timeout))
    due = time.monotonic() + timeout
    if timeout > COARSE_MARGIN_S:
        if event.wait(timeout - COARSE_MARGIN_S):
            return True
    elif event.is_set():
        return True
    pacer = _pacer()
    left = due - time.monotonic()
    if pacer is None or left <= 0:
        return bool(event.wait(max(0.0, left)))
    return pacer.wait_until(due, event)
