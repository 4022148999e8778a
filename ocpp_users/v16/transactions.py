"""Transaction-related messages, delivered in chronological order and queued while offline.

From the specification (OCPP 1.6 §3.7): "Transaction-related messages are StartTransaction.req,
StopTransaction.req and periodic or clock-aligned MeterValues.req messages. When offline, the
Charge Point MUST queue any transaction-related messages that it would have sent to the Central
System if the Charge Point had been online." and "The delivery of new transaction-related messages
SHALL wait until the queue has been emptied."

Every such message goes through :class:`TransactionMessages`. Built when it happens (its
``timestamp`` is when it happened, not when it is sent), it is sent at once in the caller's
greenlet when nothing waits before it and the charge point is online (connected, its last
BootNotification Accepted); otherwise it joins the queue. The queue is delivered by one greenlet
that exists only while there is something to deliver (an idle charge point holds none), after the
reconnect (and the boot, when one is needed), in order, at most ``Habits.offline_replay_rate`` messages a
second when that pace is set (only the messages that happened offline: one that merely waits
behind another while online is not slowed). A CALLERROR or a missing answer is a "failure to
process the message" (§3.7.1): it is tried again after TransactionMessageRetryInterval x n seconds
(real seconds, as every configuration key), at most TransactionMessageAttempts times, then given up
(counted ``given_up``, apart from the ``delivered`` ones). A dropped connection is no attempt: the
message waits, first in the queue, for the next connection.

The queue is bounded (``Habits.offline_queue_max``: a real charger has limited storage). When it is
full the oldest MeterValues goes first, never a StartTransaction or StopTransaction (when only
those remain, the new MeterValues is the one dropped); drops are counted (``overflow``). What is
still queued when the charge point stops (the run ends) is counted ``unsent``: never delivered,
queued when the run stopped (the harness stopping, not a CSMS failure).

A StopTransaction (or MeterValues) whose StartTransaction was queued names the transaction by the
transactionId the CSMS assigns when that StartTransaction is replayed: the id is filled in as the
message is sent (§3.5.4: the charge point "SHALL send a Start Transaction request for any
transaction that was authorized offline"), and is ``-1`` when the StartTransaction could not be
delivered at all (errata 3.18). This is what chargers in the field do: they cannot know the id
before the CSMS gives it.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

import gevent

from ocpp_users.ocppj.errors import (
    CallCancelled,
    CallNotSent,
    CallTimeout,
    ConnectionLost,
    OcppCallError,
    RejectedError,
    VolatileOcppError,
)
from ocpp_users.ocppj.rpc import CheckAnswer, Payload
from ocpp_users.v16.state.transaction import Transaction

if TYPE_CHECKING:
    from ocpp_users.v16.station import Station

log = logging.getLogger(__name__)

RETRYABLE: tuple[type[VolatileOcppError], ...] = (OcppCallError, CallTimeout, CallNotSent)
"""A "failure to process the message" (§3.7.1): a CALLERROR, or no answer in time."""

Answered = Callable[["TxMessage", Payload | None], object]
"""``answered(message, result)``: the CSMS answered a queued message (``result`` None: it was
dropped after its attempts, or its answer was unusable)."""


class Offline(Exception):
    """The connection went away before the message got its answer: it waits for the next one.
    ``sent``: it may have reached the CSMS (sent, unanswered), so its replay may repeat it."""

    def __init__(self, sent: bool = False) -> None:
        super().__init__()
        self.sent = sent


class Stopped(Exception):
    """The charge point is stopping before the message's attempts are done: it stays queued and
    is counted ``unsent`` (the run stopped it, not the CSMS)."""


class TxMessage:
    """One transaction-related message, as it happened."""

    __slots__ = ("action", "answered", "check", "offline", "payload", "timeout", "transaction")

    def __init__(
        self,
        action: str,
        payload: Payload,
        transaction: Transaction | None = None,
        check: CheckAnswer | None = None,
        answered: Answered | None = None,
        timeout: float | None = None,
    ) -> None:
        self.action = action
        self.timeout = timeout
        """The call timeout (None: the settings')."""
        self.payload = payload
        self.transaction = transaction
        """Whose transactionId the message carries (MeterValues, StopTransaction) or learns (StartTransaction)."""
        self.check = check
        self.answered = answered
        """Told of the answer when the message was delivered from the queue."""
        self.offline = False
        """It happened while the charge point was offline (queued then): the replay pace applies."""

    def fill_in(self) -> None:
        """Put in the transactionId known now (a StartTransaction answered since this was queued)."""
        tx = self.transaction
        if tx is not None and self.action != "StartTransaction":
            self.payload["transactionId"] = tx.wire_id


class ReplayCounts(NamedTuple):
    """A charge point's queue, counted since its start. Every queued message ends as exactly one of
    ``delivered``, ``given_up``, ``overflow``, ``unsent``, or is still waiting: ``queued`` is their
    sum."""

    queued: int
    """Transaction messages that waited in the queue (offline, or behind others)."""
    offline: int
    """Of those, the ones that happened while offline."""
    in_doubt: int
    """Messages sent again because their connection was lost before their answer."""
    delivered: int
    """Queued messages the CSMS answered (delivered)."""
    given_up: int
    """Queued messages given up after TransactionMessageAttempts failures (lost: never processed)."""
    overflow: int
    """Messages dropped because the queue was full (``Habits.offline_queue_max``)."""
    unsent: int
    """Messages still queued when the charge point stopped: never delivered (the run stopped)."""
    started: float | None
    """``time.monotonic()`` when the last replay began (None: never)."""
    ended: float | None
    """When a replay last delivered (or gave up) a message queued offline."""

    @property
    def replayed(self) -> int:
        """Queued messages done with: delivered or given up."""
        return self.delivered + self.given_up


class TransactionMessages:
    """One charge point's transaction-related messages (made on first use)."""

    __slots__ = (
        "_drainer",
        "busy",
        "current",
        "delivered",
        "given_up",
        "in_doubt",
        "offline",
        "overflow",
        "pending",
        "queued",
        "replay_ended",
        "replay_started",
        "station",
        "unsent",
    )

    def __init__(self, station: Station) -> None:
        self.station = station
        self.pending: deque[TxMessage] | None = None
        """Messages waiting to be delivered, oldest first (None while there are none: a deque is
        the size of a small charge point's configuration)."""
        self.busy = False
        """A message is being delivered (a new one waits behind it)."""
        self.current: TxMessage | None = None
        """The queued message the replay is delivering (never dropped to make room)."""
        self.queued = 0
        """Messages that had to wait in the queue (offline, or behind others)."""
        self.offline = 0
        """Of those, the ones that happened while the charge point was offline."""
        self.in_doubt = 0
        """Messages whose connection was lost after they were sent, before their answer: the CSMS may
        have them already, and gets them again from the queue (at least once, as chargers deliver)."""
        self.delivered = 0
        """Queued messages answered by the CSMS."""
        self.given_up = 0
        """Queued messages given up after TransactionMessageAttempts failures."""
        self.overflow = 0
        """Messages dropped because the queue was full."""
        self.unsent = 0
        """Messages still queued when the charge point stopped."""
        self.replay_started: float | None = None
        """``time.monotonic()`` when the last replay of messages queued offline began (None: never)."""
        self.replay_ended: float | None = None
        """When the last message queued offline was delivered or given up."""
        self._drainer: gevent.Greenlet | None = None

    # ------------------------------------------------------------ state

    @property
    def counts(self) -> ReplayCounts:
        return ReplayCounts(
            self.queued,
            self.offline,
            self.in_doubt,
            self.delivered,
            self.given_up,
            self.overflow,
            self.unsent,
            self.replay_started,
            self.replay_ended,
        )

    @property
    def backlog(self) -> int:
        """Messages still waiting (the one being delivered included)."""
        pending = self.pending
        return len(pending) if pending is not None else 0

    def online(self) -> bool:
        """The CSMS can take transaction messages now: connected, and Accepted by its last boot
        (§4.2: nothing but BootNotification before that)."""
        station = self.station
        return station.connected and station.registration == "Accepted"

    # ------------------------------------------------------------ sending

    def send(self, message: TxMessage, *, now: bool = True) -> Payload | None:
        """Deliver ``message`` in this greenlet when ``now``, nothing waits before it and the CSMS
        can take it (its answer is returned; a failure after the last attempt, or a rejection,
        raises as the call did); otherwise queue it (None)."""
        if now and not self.busy and not self.pending and self.online():
            self.busy = True
            try:
                return self.deliver(message)
            except Offline as exc:
                self.in_doubt += exc.sent
                self._enqueue(message, first=True)
                return None
            except Stopped:
                self._enqueue(message, first=True)  # counted unsent when the stop ends
                return None
            finally:
                self.busy = False
                if self.pending:
                    self.kick()
        self._enqueue(message)
        self.kick()
        return None

    def _enqueue(self, message: TxMessage, first: bool = False) -> None:
        pending = self.pending
        if pending is None:
            pending = self.pending = deque()
        self.queued += 1
        if not self.online():
            self.offline += 1
            message.offline = True
        limit = self.station.settings.habits.offline_queue_max
        if limit > 0 and len(pending) >= limit and not self._make_room(pending):
            if message.action == "MeterValues":
                self.overflow += 1  # only Start/StopTransaction queued: the new reading goes
                return
            # A StartTransaction or StopTransaction is never dropped: the queue goes over its bound.
        if first:
            pending.appendleft(message)
        else:
            pending.append(message)

    def _make_room(self, pending: deque[TxMessage]) -> bool:
        """Drop the oldest queued MeterValues (not the one being delivered); False: there is none."""
        for index, queued in enumerate(pending):
            if queued.action == "MeterValues" and queued is not self.current:
                del pending[index]
                self.overflow += 1
                return True
        return False

    def abandon(self) -> int:
        """The charge point stopped: what is still queued is never delivered (counted ``unsent``)."""
        pending = self.pending
        left = len(pending) if pending is not None else 0
        self.unsent += left
        self.pending = None
        return left

    def deliver(self, message: TxMessage) -> Payload:
        """Send ``message`` with the retries of §3.7.1; raise :class:`Offline` when the connection
        goes away first, the last failure when every attempt failed (counted already)."""
        station = self.station
        config = station.configuration
        attempts = max(1, config.get_int("TransactionMessageAttempts", 3))
        retry_interval = float(config.get_int("TransactionMessageRetryInterval", 60))
        failures = 0
        while True:
            if not self.online():
                raise Offline
            message.fill_in()
            try:
                return station.call(message.action, message.payload, check=message.check, timeout=message.timeout)
            except (ConnectionLost, CallCancelled):
                raise Offline(sent=True) from None
            except RETRYABLE:
                failures += 1
                if failures >= attempts:
                    raise
                # §3.7.1: "it SHOULD wait as many seconds as specified in its
                # TransactionMessageRetryInterval key, multiplied by the number of preceding
                # transmissions of this same message." Real seconds, as every configuration key.
                if station.stopping or station.wait_stopping(retry_interval * failures):
                    raise Stopped from None

    # ------------------------------------------------------------ the queue

    def kick(self) -> None:
        """Start delivering the queue when there is one, the CSMS can take it and nobody is at it."""
        if not self.pending or self.busy or not self.online():
            return  # (also while stopping: a StopTransaction that waited behind a reading still goes out)
        drainer = self._drainer
        if drainer is not None and not drainer.dead:
            return
        self._drainer = self.station.spawn(self._drain)

    def _drain(self) -> None:
        station = self.station
        rate = station.settings.habits.offline_replay_rate
        pause = 1.0 / rate if rate > 0 else 0.0
        paced = False  # a message queued offline went out in this replay: the next one waits its turn
        while self.pending and not self.busy:
            message = self.pending[0]
            if message.offline:
                if paced and pause and not station.stopping:
                    station.wait_stopping(pause)  # a stop ends the pause: what is left goes out at once
                    if not self.pending or self.busy:
                        break
                    message = self.pending[0]
                if not paced:
                    self.replay_started = time.monotonic()
            self.busy = True
            self.current = message
            result: Payload | None = None
            try:
                result = self.deliver(message)
                self.delivered += 1
            except Offline as exc:
                self.in_doubt += exc.sent
                self.busy = False
                # A send that failed before the connection is known closed, or a drop followed by a
                # reconnect meanwhile: look again shortly (never spin), go on while online.
                if station.wait_stopping(0.1) or not self.online():
                    return  # the next connection replays it
                continue
            except Stopped:
                return  # it stays queued: counted unsent when the stop ends
            except RejectedError as exc:  # strict mode: a valid answer refusing the idTag
                result = exc.payload if isinstance(exc.payload, dict) else None
                self.delivered += 1
            except RETRYABLE as exc:  # given up after TransactionMessageAttempts (§3.7.1): lost
                station.last_error = exc.reason
                self.given_up += 1
            except VolatileOcppError as exc:  # answered, but the answer is unusable (counted)
                station.last_error = exc.reason
                self.delivered += 1
            finally:
                self.busy = False
                self.current = None
            pending = self.pending
            if pending and pending[0] is message:
                pending.popleft()
            if message.offline:
                paced = True
                self.replay_ended = time.monotonic()
            answered = message.answered
            if answered is not None:
                try:
                    answered(message, result)
                except Exception as exc:  # a bug in a follow-up must not end the replay
                    log.error("after %s: %s: %s", message.action, type(exc).__name__, exc)
        if not self.pending:
            self.pending = None
            station.queue_emptied()
