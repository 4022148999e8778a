"""Answers to the charge-point-initiated OCPP 1.6 actions (ocpp ``@on`` handlers).

Handlers are plain business logic: they read/update the Store and return
``ocpp.v16.call_result`` payloads.  Faults never reach this module.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from ocpp.charge_point import snake_to_camel_case
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call_result, datatypes
from ocpp.v16.enums import Action

from testbed.ca import CaError
from testbed.state import Store

OUR_VENDOR_ID = "VolatileOCPP"

_OCPP_LOG = logging.getLogger("testbed.ocpp")


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class CsmsHandlers(ChargePoint):  # type: ignore[misc]
    """OCPP 1.6 Central System behaviour for one charge point connection."""

    def __init__(self, cp_id: str, connection: Any, store: Store) -> None:
        super().__init__(cp_id, connection, logger=_OCPP_LOG)
        self.store = store

    def id_tag_info(self, id_tag: str) -> datatypes.IdTagInfo:
        entry = self.store.tags.lookup(id_tag)
        return datatypes.IdTagInfo(
            status=entry.status, expiry_date=entry.expiry_date, parent_id_tag=entry.parent_id_tag
        )

    @on(Action.authorize)
    def on_authorize(self, id_tag: str, **_: Any) -> call_result.Authorize:
        return call_result.Authorize(id_tag_info=self.id_tag_info(id_tag))

    @on(Action.boot_notification)
    def on_boot_notification(self, **kwargs: Any) -> call_result.BootNotification:
        config = self.store.config
        self.store.cp(self.id).last_boot = snake_to_camel_case(kwargs)
        accepted = config.boot_status == "Accepted"
        interval = config.heartbeat_interval if accepted else config.boot_retry_interval
        return call_result.BootNotification(current_time=utc_now(), interval=interval, status=config.boot_status)

    @on(Action.data_transfer)
    def on_data_transfer(self, vendor_id: str, **_: Any) -> call_result.DataTransfer:
        status = "Accepted" if vendor_id == OUR_VENDOR_ID else "UnknownVendorId"
        return call_result.DataTransfer(status=status)

    @on(Action.diagnostics_status_notification)
    def on_diagnostics_status_notification(self, **_: Any) -> call_result.DiagnosticsStatusNotification:
        return call_result.DiagnosticsStatusNotification()

    @on(Action.firmware_status_notification)
    def on_firmware_status_notification(self, **_: Any) -> call_result.FirmwareStatusNotification:
        return call_result.FirmwareStatusNotification()

    @on(Action.heartbeat)
    def on_heartbeat(self, **_: Any) -> call_result.Heartbeat:
        return call_result.Heartbeat(current_time=utc_now())

    @on(Action.meter_values)
    def on_meter_values(self, **_: Any) -> call_result.MeterValues:
        return call_result.MeterValues()

    @on(Action.start_transaction)
    def on_start_transaction(
        self, connector_id: int, id_tag: str, meter_start: int, timestamp: str, **_: Any
    ) -> call_result.StartTransaction:
        # Per spec a transaction id is assigned even when the idTag is not Accepted.
        tx_id = self.store.start_transaction(self.id, connector_id, id_tag, meter_start, timestamp)
        return call_result.StartTransaction(transaction_id=tx_id, id_tag_info=self.id_tag_info(id_tag))

    @on(Action.status_notification)
    def on_status_notification(self, connector_id: int, status: str, **_: Any) -> call_result.StatusNotification:
        self.store.cp(self.id).statuses[str(connector_id)] = status
        return call_result.StatusNotification()

    @on(Action.stop_transaction)
    def on_stop_transaction(
        self,
        transaction_id: int,
        meter_stop: int,
        timestamp: str,
        id_tag: str | None = None,
        reason: str | None = None,
        **_: Any,
    ) -> call_result.StopTransaction:
        self.store.stop_transaction(transaction_id, meter_stop, timestamp, reason)
        info = self.id_tag_info(id_tag) if id_tag is not None else None
        return call_result.StopTransaction(id_tag_info=info)

    # Security extension (OCPP 1.6 security whitepaper): the notifications are answered (A04.FR.03)
    # and kept for the control API (GET /cps/{id}); the requests were validated against their schemas.

    @on(Action.security_event_notification)
    def on_security_event_notification(
        self, type: str, timestamp: str, tech_info: str | None = None, **_: Any
    ) -> call_result.SecurityEventNotification:
        event = {"type": type, "timestamp": timestamp}
        if tech_info is not None:
            event["techInfo"] = tech_info
        self.store.cp(self.id).security_events.append(event)
        _OCPP_LOG.info("%s: security event %s", self.id, type)
        return call_result.SecurityEventNotification()

    @on(Action.log_status_notification)
    def on_log_status_notification(
        self, status: str, request_id: int | None = None, **_: Any
    ) -> call_result.LogStatusNotification:
        self.store.cp(self.id).log_statuses.append(_status(status, request_id))
        return call_result.LogStatusNotification()

    @on(Action.signed_firmware_status_notification)
    def on_signed_firmware_status_notification(
        self, status: str, request_id: int | None = None, **_: Any
    ) -> call_result.SignedFirmwareStatusNotification:
        self.store.cp(self.id).signed_firmware_statuses.append(_status(status, request_id))
        return call_result.SignedFirmwareStatusNotification()

    @on(Action.sign_certificate)
    def on_sign_certificate(self, csr: str, **_: Any) -> call_result.SignCertificate:
        """A02.FR.11/12: Accepted when this CSMS can process the request (it has a CA and the CSR
        is a valid PEM CSR), else Rejected. The certificate follows in a CertificateSigned.req."""
        ca = self.store.ca
        if ca is None:
            return call_result.SignCertificate(status="Rejected")  # no CA (start with --ca-cert/--ca-key)
        try:
            ca.parse_csr(csr)
        except CaError as exc:
            _OCPP_LOG.info("%s: SignCertificate rejected: %s", self.id, exc)
            return call_result.SignCertificate(status="Rejected")
        self.store.cp(self.id).csr = csr
        return call_result.SignCertificate(status="Accepted")


def _status(status: str, request_id: int | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"status": status}
    if request_id is not None:
        entry["requestId"] = request_id
    return entry
