"""A charging session on one connector, as a charger runs it.

Preparing -> (Authorize) -> StartTransaction -> Charging -> MeterValues every
MeterValueSampleInterval -> StopTransaction -> Finishing -> Available.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import gevent

from .errors import ConnectionLost, RejectedError, VolatileOcppError
from .model.status import ChargePointStatus

if TYPE_CHECKING:
    from .chargepoint import ChargePointBase

log = logging.getLogger(__name__)
S = ChargePointStatus


def _transaction_message(cp: ChargePointBase, send: object) -> None:
    """Send a transaction-related message, retrying after reconnects.

    From the specification (§4.7): transaction-related messages are retried up to
    TransactionMessageAttempts times, TransactionMessageRetryInterval apart.
    """
    attempts = max(1, cp.configuration.get_int("TransactionMessageAttempts", 3))
    for attempt in range(attempts):
        if not cp.connected and not cp.stopping:
            # Offline: a charger queues the message until the connection is back.
            cp.wait_connected(timeout=cp.settings.backoff_max * 2)
        try:
            send()  # type: ignore[operator]
            return
        except ConnectionLost:
            if cp.stopping or attempt == attempts - 1:
                raise
            cp.wait_connected(timeout=cp.settings.backoff_max * 2)


def run_session(
    cp: ChargePointBase,
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
                cp.authorize(id_tag)
            except RejectedError:
                cp.status_notification(connector_id, S.available)
                return
        try:
            cp.start_transaction(connector_id, id_tag, reservation_id)
        except RejectedError as exc:
            # From the specification: a transaction the CSMS does not accept is stopped with
            # reason DeAuthorized when StopTransactionOnInvalidId is true.
            payload = exc.payload if isinstance(exc.payload, dict) else {}
            tx = payload.get("transactionId")
            connector.transaction_id = tx if isinstance(tx, int) else None
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
            wait = interval if interval > 0 else remaining
            if remaining is not None and wait is not None:
                wait = min(wait, remaining)
            since = time.monotonic()
            if connector.stop_event.wait(timeout=wait):
                break
            if interval > 0 and (remaining is None or remaining > 0) and cp.connected:
                observer = cp.schedule_observer
                if observer is not None and wait is not None:
                    observer("MeterValues", since, wait)
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
