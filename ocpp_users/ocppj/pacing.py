"""Wake at a due time, not on the event loop's millisecond tick.

gevent's default loop (libev, epoll backend) waits in whole milliseconds: ``epoll_wait`` takes its
timeout in ms, and libev rounds every wait up to at least one. Every sleep that ends within the
same millisecond therefore ends at the same moment, and charge points due 250 microseconds apart
send together, in a bunch, once a millisecond. A CSMS then sees a burstier load than the one
offered: the second message of a bunch finds it awake, a lone one pays its wake-up, and the round
trips the harness reports are not the ones an evenly paced client would get.

:func:`sleep_until` and :func:`wait` hand the wait to one kernel timer per event loop (a Linux
``timerfd``, nanosecond resolution), armed for the earliest waiter only. The event loop wakes when
that file becomes readable, whatever its own timeout, and the first waiter due by then resumes:
on a 2-vCPU VM about 30 µs after its due time at the median (``python -m benchmarks.pacing``).
Waiters due together resume in due order, one per turn of the loop, so that a busy loop does not
send what fell due meanwhile as one burst (see :meth:`Pacer._fire`). The cost is per wake-up: a
heap push and pop and one ``timerfd_settime``; nothing walks the waiters on a timer. Waking once
per message costs more CPU than waking once per millisecond (the process sleeps and wakes more
often): ``--pacing tick`` (:func:`set_precise`) goes back to the loop's own timers, and ``--pacing
batch`` (:func:`set_batched`) keeps the due times but resumes waiters due together back to back.
Without ``timerfd`` (not Linux) these are ``gevent.sleep`` and ``Event.wait``.
"""

from __future__ import annotations

import ctypes
import heapq
import itertools
import logging
import math
import os
import sys
import time
import weakref
from typing import Any

import gevent
from gevent._hub_local import get_hub_if_exists
from gevent.event import Event
from gevent.hub import Waiter

log = logging.getLogger(__name__)

SLACK_S = 0.000_010
"""A waiter due within this of the timer's wake-up resumes on it (one wake-up, not two): a waiter
may resume up to this much before its due time."""

CATCH_UP_S = 0.003
"""How late a waiter may be and still wait for its own turn of the loop. Waiters due together
resume one turn apart (see :meth:`Pacer._fire`); one later than this resumes right after the one
before it: the loop is behind its schedule, and catching up comes first. Without this, a loop near
saturation would send one message per turn and fall behind (from 11,000-12,000 messages a second
against 14,000-21,000 back to back, ``python -m benchmarks --only latency``)."""

_TFD_TIMER_ABSTIME = 1
"""``timerfd_settime``: the time given is absolute (on the timer's clock)."""
_FAR_S = 2.0**40
"""The latest time the kernel timer is armed for (``time.monotonic()`` seconds, ~35,000 years): a
waiter due later is woken by nothing but its event."""


class _Timespec(ctypes.Structure):
    """``struct timespec``."""

    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


class _Itimerspec(ctypes.Structure):
    """``struct itimerspec``: a one-shot timer leaves ``it_interval`` at zero."""

    _fields_ = [("it_interval", _Timespec), ("it_value", _Timespec)]


def _load_libc() -> Any:
    """The C library's ``timerfd_create`` and ``timerfd_settime``, or None (not Linux)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.timerfd_create.argtypes = (ctypes.c_int, ctypes.c_int)
        libc.timerfd_settime.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)
    except (OSError, AttributeError):
        return None
    return libc


_libc = _load_libc()


def _timerfd(libc: Any) -> int:
    """A new non-blocking timer file on ``time.monotonic()``'s clock (``TFD_*`` equal ``O_*``)."""
    fd = int(libc.timerfd_create(time.CLOCK_MONOTONIC, os.O_CLOEXEC | os.O_NONBLOCK))
    if fd < 0:
        raise OSError(ctypes.get_errno(), "timerfd_create failed")
    return fd


class Pacer:
    """One event loop's precise waiters: a heap of (due, order, waiter) and the timerfd armed for
    the first of them."""

    def __init__(self, libc: Any, hub: Any) -> None:
        self._libc = libc
        self._spec = _Itimerspec()
        self._spec_ref = ctypes.byref(self._spec)
        self._heap: list[list[Any]] = []
        """Entries ``[due, order, waiter]``, a heap by due time; ``waiter`` is None once the wait
        ended otherwise (its event was set, or it was killed)."""
        self._live = 0
        """Entries whose waiter still waits: the loop is held alive while there are any."""
        self._ended = 0
        """Entries left in the heap by waits that ended otherwise: dropped from the top as they
        come up, and all at once when they are more than half of the heap."""
        self._order = itertools.count()
        self._armed_at = math.inf
        self.failed = False
        """``timerfd_settime`` failed once: this pacer is no longer used (see :func:`_pacer`)."""
        self._fd = _timerfd(libc)
        self._watcher = hub.loop.io(self._fd, 1)
        # The watcher holds the pacer weakly, so a pacer whose hub is gone is collected; then its
        # watcher stops before its file closes (libev aborts on a watched descriptor that closed).
        self._watcher.start(_on_timer, weakref.ref(self))
        self._watcher.ref = False  # an idle pacer does not keep the loop alive (gevent's LoopExit)
        weakref.finalize(self, _close_timer, self._watcher, self._fd).atexit = False

    def after_fork(self) -> None:
        """In a forked child, before gevent re-registers the loop's files: the inherited timer file
        is the parent's own (arming it would move the parent's timer). Put a new timer under the
        same descriptor number, so the watcher needs no libev call here, and re-arm it."""
        fresh = _timerfd(self._libc)
        try:
            os.dup2(fresh, self._fd, inheritable=False)
        finally:
            os.close(fresh)
        self._armed_at = math.inf
        self._rearm()

    def _arm(self, due: float) -> None:
        """Arm the kernel timer for ``due`` (``time.monotonic()`` seconds; 0: disarm). The loop is
        held alive only while something waits (as by a pending timer)."""
        due = min(due, _FAR_S)  # a wait of years (a CSMS's interval) still fits the kernel's time
        value = self._spec.it_value
        whole = int(due)
        value.tv_sec = whole
        value.tv_nsec = int((due - whole) * 1e9) if due > 0 else 0
        if self._libc.timerfd_settime(self._fd, _TFD_TIMER_ABSTIME, self._spec_ref, None) < 0:
            self._fail(OSError(ctypes.get_errno(), "timerfd_settime failed"))
            return
        self._armed_at = due if due > 0 else math.inf
        self._watcher.ref = due > 0 and self._live > 0

    def _rearm(self) -> None:
        """Drop ended entries from the top (all of them once they are most of the heap) and arm for
        the first waiter left, or disarm."""
        heap = self._heap
        if self._ended > 64 and self._ended * 2 > len(heap):
            heap[:] = [entry for entry in heap if entry[2] is not None]
            heapq.heapify(heap)
            self._ended = 0
        while heap and heap[0][2] is None:
            heapq.heappop(heap)
            self._ended -= 1
        if not self.failed:
            self._arm(heap[0][0] if heap else 0.0)

    def _fail(self, error: OSError) -> None:
        """The kernel timer cannot be armed: wake every waiter (they finish on the loop's timers)
        and stop using this pacer."""
        if not self.failed:
            log.warning("precise pacing off, back to the event loop's timers: %s", error)
        self.failed = True
        self._armed_at = math.inf
        self._watcher.stop()
        heap, self._heap = self._heap, []
        self._live = self._ended = 0
        hub = gevent.get_hub()
        for entry in heap:
            waiter, entry[2] = entry[2], None
            if waiter is not None:
                hub.loop.run_callback(waiter.switch, None)

    def _end(self, entry: list[Any]) -> None:
        """A wait ended otherwise than by the timer (its event, a kill): its entry stays behind."""
        if entry[2] is not None and not self.failed:
            entry[2] = None
            self._live -= 1
            self._ended += 1
            if (self._heap and self._heap[0] is entry) or self._ended * 2 > len(self._heap):
                self._rearm()

    def wait_until(self, due: float, event: Event | None) -> bool:
        """Block the calling greenlet until ``due`` (``time.monotonic()`` seconds) or until
        ``event`` is set; return whether the event woke it or is set."""
        waiter: Waiter[Any] = Waiter()
        entry = [due, next(self._order), waiter]
        heapq.heappush(self._heap, entry)
        self._live += 1
        if due < self._armed_at:
            self._arm(due)
        elif self._live == 1:
            self._watcher.ref = True  # armed already (for an ended entry): now someone waits

        def woken(_: object) -> None:  # run in the hub, as the timer's wake-up is
            waiter.switch(True)

        if event is not None:
            event.rawlink(woken)
        try:
            woken_by_event = waiter.get() is True  # the timer's wake-up or the event's; the other finds no one
        finally:
            if event is not None:
                event.unlink(woken)
            self._end(entry)  # the event or a kill ended it (the timer's wake-up ended it already)
        if self.failed:  # woken early by the failure: the rest of the wait on the loop's timers
            left = due - time.monotonic()
            if event is None:
                if left > 0:
                    gevent.sleep(left)
                return False
            return woken_by_event or bool(event.wait(max(0.0, left)))
        return woken_by_event or (event is not None and bool(event.is_set()))

    def _fire(self) -> None:
        """The timer expired (in the hub): resume the first waiter due by now, and with it only
        those due by now that are later than :data:`CATCH_UP_S` (every one due by now with
        ``--pacing batch``: :func:`set_batched`); re-arm for the next.

        Waiters that fell due together, or while the loop was busy, resume one loop turn apart,
        with whatever became ready meanwhile (answers, woken greenlets) handled between them.
        Resumed back to back, each would send right after the other, and the CSMS would receive
        a burst in which only the first message pays for waking it: a busy harness then reports
        round trips shorter than independent chargers get (``python -m benchmarks --only latency``:
        0.79-0.91 of the reference at 4,000-8,000 messages a second, resumed back to back;
        0.93-1.02 one per turn; docs/performance.md, Summary)."""
        heap = self._heap
        try:
            woke = time.monotonic() + SLACK_S
            horizon = woke
            while heap and heap[0][0] <= horizon:
                entry = heapq.heappop(heap)
                waiter, entry[2] = entry[2], None
                if waiter is None:
                    self._ended -= 1
                else:
                    self._live -= 1
                    waiter.switch(None)
                    # The rest wait for their turn, unless far behind; never one that fell due
                    # after this wake-up (a chain of them would hold the loop for as long as it
                    # stays behind).
                    horizon = min(woke, time.monotonic() - _catch_up_s)
        finally:
            # The next one (or nothing), even after an error. Arming also clears the expiry that
            # made the file readable; a timer armed for a due time already past fires at once,
            # on the loop's next turn.
            self._rearm()


def _on_timer(ref: weakref.ref[Pacer]) -> None:
    """The timer file became readable (in the hub). An error is reported, never raised: gevent
    would stop the watcher, and every waiter already queued would sleep on."""
    pacer = ref()
    if pacer is not None:
        try:
            pacer._fire()
        except Exception:
            gevent.get_hub().handle_error(pacer, *sys.exc_info())


def _close_timer(watcher: Any, fd: int) -> None:
    """A pacer was collected: stop its watcher (its loop may be gone already), then close its file."""
    try:
        watcher.stop()
    except Exception:  # a destroyed loop has nothing left to stop
        pass
    os.close(fd)


_precise = True
"""False (``--pacing tick``): :func:`sleep_until` and :func:`wait` are the loop's own timers."""

_catch_up_s = CATCH_UP_S
"""How late a waiter may be and still wait for its own turn, in this process: :data:`CATCH_UP_S`,
or 0 (every waiter due at a wake-up resumes on it, back to back: ``--pacing batch``)."""


def set_precise(enabled: bool) -> None:
    """Pace this process's timed waits at their due time (the default) or on the loop's tick."""
    global _precise
    _precise = enabled


def set_batched(enabled: bool) -> None:
    """Resume the waiters due at a wake-up back to back (``--pacing batch``: less CPU per message
    at thousands a second, a burstier load) or one loop turn apart, catching up beyond
    :data:`CATCH_UP_S` (the default)."""
    global _catch_up_s
    _catch_up_s = 0.0 if enabled else CATCH_UP_S


MODES = ("exact", "batch", "tick")
"""``--pacing``: at the due time, waiters due together one loop turn apart (``exact``) or back to
back (``batch``), or on the loop's millisecond tick (``tick``)."""


def set_pacing(mode: str) -> None:
    """Pace this process's timed waits as ``--pacing MODE`` says (one of :data:`MODES`)."""
    if mode not in MODES:
        raise ValueError(f"pacing mode must be one of {', '.join(MODES)}, not {mode!r}")
    set_precise(mode != "tick")
    set_batched(mode == "batch")


_pacers: weakref.WeakKeyDictionary[Any, Pacer] = weakref.WeakKeyDictionary()
"""One pacer per gevent hub (per thread running an event loop), made on first use; it goes (and
its timer file is closed) with its hub."""


def _after_fork_in_child() -> None:
    """Only the forking thread lives on in the child: its pacer takes a timer of its own, the
    others (of threads that are gone) are dropped."""
    hub = get_hub_if_exists()
    kept = _pacers.get(hub) if hub is not None else None
    _pacers.clear()
    if kept is not None and not kept.failed:
        try:
            kept.after_fork()
        except OSError as exc:
            kept._fail(exc)
            return
        _pacers[hub] = kept


os.register_at_fork(after_in_child=_after_fork_in_child)


def _pacer() -> Pacer | None:
    """This event loop's pacer, or None: ``--pacing tick``, no ``timerfd``, or it failed."""
    if not _precise or _libc is None:
        return None
    hub = gevent.get_hub()
    pacer = _pacers.get(hub)
    if pacer is None:
        try:
            pacer = _pacers[hub] = Pacer(_libc, hub)
        except OSError as exc:
            log.warning("precise pacing off, back to the event loop's timers: %s", exc)
            set_precise(False)
            return None
    return None if pacer.failed else pacer


def sleep_until(due: float) -> None:
    """Sleep the calling greenlet until ``due`` (``time.monotonic()`` seconds). A due time already
    past returns at once, without yielding. For loops that send on a schedule: the whole wait is
    the pacer's (one wake-up, not two)."""
    if not math.isfinite(due):
        raise ValueError(f"due time must be finite, not {due!r}")
    if due <= time.monotonic():
        return
    pacer = _pacer()
    if pacer is None:
        gevent.sleep(max(0.0, due - time.monotonic()))
        return
    pacer.wait_until(due, None)


def wait(event: Event, timeout: float | None) -> bool:
    """``event.wait(timeout)`` with the timeout kept by the pacer: True when the event is set (at
    once or during the wait), False when the timeout passed first. A timeout of 0 or less returns
    at once, without yielding."""
    if timeout is None or timeout == math.inf:
        return bool(event.wait())
    if math.isnan(timeout):
        raise ValueError("timeout must not be NaN")
    if event.is_set():
        return True
    pacer = _pacer()
    if pacer is None:
        return bool(event.wait(max(0.0, timeout)))
    if timeout <= 0:  # nothing to wait for: no yield
        return False
    return pacer.wait_until(time.monotonic() + timeout, event)
