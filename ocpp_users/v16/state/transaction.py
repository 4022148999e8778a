"""A transaction as the charger knows it, with the readings its StopTransaction will carry.

A transaction started offline has no transactionId until the CSMS answers its queued
StartTransaction (OCPP 1.6 §3.5.4: "When connection to the Central Server is restored, the Charge
Point SHALL send a Start Transaction request for any transaction that was authorized offline");
the messages queued after it (MeterValues, StopTransaction) are given the transactionId as they
are sent. If the StartTransaction could not be delivered, they carry ``-1`` (errata 3.18: "the
Charge Point SHALL send any Transaction related messages for this transaction to the Central
System with a transactionId = -1").
"""

from __future__ import annotations

from collections import deque
from typing import Any

UNKNOWN_TRANSACTION_ID = -1
"""Errata 3.18: the transactionId of messages whose transaction's StartTransaction never got through."""

MAX_READINGS = 16
"""The periodic and clock-aligned readings a StopTransaction's transactionData keeps (the latest
ones; the Transaction.Begin and Transaction.End readings are kept apart): a bound, so that a long
session with a short sample interval does not grow a charger's memory without end."""


class Transaction:
    """One transaction on one connector."""

    __slots__ = ("begin", "connector_id", "id", "id_tag", "readings")

    def __init__(self, connector_id: int, id_tag: str) -> None:
        self.connector_id = connector_id
        self.id_tag = id_tag
        self.id: int | None = None
        """The transactionId the CSMS assigned (None until its StartTransaction.conf)."""
        self.begin: dict[str, Any] | None = None
        """The Transaction.Begin reading of StopTxnSampledData (None when that key is empty)."""
        self.readings: deque[dict[str, Any]] | None = None
        """Sample.Periodic (StopTxnSampledData) and Sample.Clock (StopTxnAlignedData) readings."""

    @property
    def wire_id(self) -> int:
        """The transactionId to put in a message now (errata 3.18: -1 when none is known)."""
        return self.id if self.id is not None else UNKNOWN_TRANSACTION_ID

    def record(self, reading: dict[str, Any]) -> None:
        """Keep a reading for the StopTransaction's transactionData (the latest :data:`MAX_READINGS`)."""
        readings = self.readings
        if readings is None:
            readings = self.readings = deque(maxlen=MAX_READINGS)
        readings.append(reading)

    def transaction_data(self, end: dict[str, Any] | None) -> list[dict[str, Any]]:
        """The transactionData of its StopTransaction.req, in chronological order."""
        data: list[dict[str, Any]] = []
        if self.begin is not None:
            data.append(self.begin)
        if self.readings:
            data.extend(self.readings)
        if end is not None:
            data.append(end)
        return data
