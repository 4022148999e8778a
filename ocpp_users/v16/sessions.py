"""A charging session on one connector, as a charger runs it.

Preparing -> (Authorize) -> StartTransaction -> Charging -> MeterValues every
MeterValueSampleInterval -> StopTransaction -> Finishing -> Available.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import gevent

from ocpp_users.ocppj.errors import CallTimeout, ConnectionLost, OcppCallError, RejectedError, VolatileOcppError
from ocpp_users.v16.state.status import ChargePointStatus

if TYPE_CHECKING:
    from ocpp_users.v16.station import Station

log = logging.getLogger(__name__)
S = ChargePointStatus


def id_tag_status(result: object) -> object:
    """``idTagInfo.status`` of an Authorize/StartTransaction answer, or None when it is missing."""
    info = result.get("idTagInfo") if isinstance(result, dict) else None
    return info.get("status") if isinstance(info, dict) else None


def _transaction_message(cp: Station, send: Callable[[], Any]) -> None:
    """Send a transaction-related message as the specification asks (§4.7).

    While the connection is down the message is queued (a charger does not lose it and it does not
    count as an attempt). A CALLERROR or a timeout is an attempt: the message is retried up to
    TransactionMessageAttempts times, waiting TransactionMessageRetryInterval x n before the n-th retry.
    """
    attempts = max(1, cp.configuration.get_int("TransactionMessageAttempts", 3))
    retry_interval = float(cp.configuration.get_int("TransactionMessageRetryInterval", 60))
    failures = 0
    while True:
        while not cp.connected:
            if cp.stopping:
                raise ConnectionLost("connection lost: the charge point is stopping")
            cp.wait_connected(timeout=1.0)
        try:
            send()
            return
        except ConnectionLost:
            if cp.stopping:
                raise
        except (OcppCallError, CallTimeout):
            failures += 1
            if failures >= attempts or cp.stopping:
                raise
            if cp.wait_stopping(retry_interval * failures / max(cp.settings.time_factor, 1.0)):
                raise


def run_session(
    cp: Station,
    connector_id: int,
    id_tag: str,
    duration_s: float | None,
    *,
    authorize: bool = True,
    default_stop_reason: str = "Local",
    reservation_id: int | None = None,
) -> None:
    """Run one session to its end; failures are already counted by the engine's events."""
    connector = cp.connectors[connector_id]
    try:
        if connector.status != S.preparing:
            cp.status_notification(connector_id, S.preparing)
        if authorize:
            try:
                authorized = cp.authorize(id_tag)
            except RejectedError as exc:  # strict mode: already counted as a failure
                authorized = exc.payload
            if id_tag_status(authorized) != "Accepted":
                cp.status_notification(connector_id, S.available)
                return
        try:
            started = cp.start_transaction(connector_id, id_tag, reservation_id)
        except RejectedError as exc:  # strict mode: already counted as a failure
            started = exc.payload if isinstance(exc.payload, dict) else {}
            tx = started.get("transactionId")
            connector.transaction_id = tx if isinstance(tx, int) else None
        if id_tag_status(started) != "Accepted" and cp.configuration.get_bool("StopTransactionOnInvalidId", True):
            # From the specification: with StopTransactionOnInvalidId true, a transaction whose
            # StartTransaction.conf is not Accepted is stopped, reason DeAuthorized.
            if connector.transaction_id is not None:
                cp.stop_transaction(connector_id, "DeAuthorized")
            cp.status_notification(connector_id, S.finishing)
            cp.status_notification(connector_id, S.available)
            return
        cp.status_notification(connector_id, S.charging)
        deadline = None if duration_s is None else gevent.get_hub().loop.now() + duration_s
        while True:
            interval = cp.meter_interval
            remaining = None if deadline is None else deadline - gevent.get_hub().loop.now()
            if remaining is not None and remaining <= 0:
                break
            # A sample is due only when a whole MeterValueSampleInterval passes within the session:
            # a session shorter than the interval sends none (a real charger samples on its clock).
            due = interval > 0 and (remaining is None or interval <= remaining)
            wait = interval if due else remaining
            since = time.monotonic()
            if connector.stop_event.wait(timeout=wait):
                break
            if due and cp.connected:
                observer = cp.schedule_observer
                if observer is not None:
                    observer("MeterValues", since, interval)
                try:
                    cp.meter_values(connector_id)
                except VolatileOcppError:
                    pass
        reason = connector.stop_reason or default_stop_reason
        transaction_id = connector.transaction_id

        def send_stop() -> None:
            connector.transaction_id = transaction_id  # a retry repeats the same transactionId
            cp.stop_transaction(connector_id, reason)

        _transaction_message(cp, send_stop)
        if connector.scheduled_operative is not None:
            connector.operative = connector.scheduled_operative
            connector.scheduled_operative = None
        if cp.connected:
            cp.status_notification(connector_id, S.finishing)
            cp.status_notification(connector_id, S.available if connector.operative else S.unavailable)
    except VolatileOcppError as exc:
        cp.last_error = exc.reason
        connector.transaction_id = None
        cp.set_status(connector_id, S.finishing)
        cp.set_status(connector_id, S.available)
    finally:
        connector.stop_event.clear()
        connector.stop_reason = None
        if connector.scheduled_operative is not None:
            # A ChangeAvailability that was Scheduled during this session applies now.
            connector.operative, connector.scheduled_operative = connector.scheduled_operative, None
            if not connector.operative and connector.status == S.available and cp.connected:
                try:
                    cp.status_notification(connector_id, S.unavailable)
                except VolatileOcppError:
                    pass
