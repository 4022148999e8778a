"""OCPP 1.6 actions as ``StrEnum`` members whose values are the wire names."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    """Every OCPP 1.6 action (Core, Firmware, Local Auth List, Reservation, Smart Charging,
    Remote Trigger) and the 1.6 security whitepaper additions whose schemas ship with ``ocpp``."""

    authorize = "Authorize"
    boot_notification = "BootNotification"
    cancel_reservation = "CancelReservation"
    certificate_signed = "CertificateSigned"
    change_availability = "ChangeAvailability"
    change_configuration = "ChangeConfiguration"
    clear_cache = "ClearCache"
    clear_charging_profile = "ClearChargingProfile"
    data_transfer = "DataTransfer"
    delete_certificate = "DeleteCertificate"
    diagnostics_status_notification = "DiagnosticsStatusNotification"
    extended_trigger_message = "ExtendedTriggerMessage"
    firmware_status_notification = "FirmwareStatusNotification"
    get_composite_schedule = "GetCompositeSchedule"
    get_configuration = "GetConfiguration"
    get_diagnostics = "GetDiagnostics"
    get_installed_certificate_ids = "GetInstalledCertificateIds"
    get_local_list_version = "GetLocalListVersion"
    get_log = "GetLog"
    heartbeat = "Heartbeat"
    install_certificate = "InstallCertificate"
    log_status_notification = "LogStatusNotification"
    meter_values = "MeterValues"
    remote_start_transaction = "RemoteStartTransaction"
    remote_stop_transaction = "RemoteStopTransaction"
    reserve_now = "ReserveNow"
    reset = "Reset"
    security_event_notification = "SecurityEventNotification"
    send_local_list = "SendLocalList"
    set_charging_profile = "SetChargingProfile"
    sign_certificate = "SignCertificate"
    signed_firmware_status_notification = "SignedFirmwareStatusNotification"
    signed_update_firmware = "SignedUpdateFirmware"
    start_transaction = "StartTransaction"
    status_notification = "StatusNotification"
    stop_transaction = "StopTransaction"
    trigger_message = "TriggerMessage"
    unlock_connector = "UnlockConnector"
    update_firmware = "UpdateFirmware"


#: Actions a charge point initiates in OCPP 1.6 (the original specification, all profiles).
CP_INITIATED: frozenset[Action] = frozenset(
    {
        Action.authorize,
        Action.boot_notification,
        Action.data_transfer,
        Action.diagnostics_status_notification,
        Action.firmware_status_notification,
        Action.heartbeat,
        Action.meter_values,
        Action.start_transaction,
        Action.status_notification,
        Action.stop_transaction,
    }
)

#: Actions a Central System initiates in OCPP 1.6 (the original specification, all profiles).
CSMS_INITIATED: frozenset[Action] = frozenset(
    {
        Action.cancel_reservation,
        Action.change_availability,
        Action.change_configuration,
        Action.clear_cache,
        Action.clear_charging_profile,
        Action.data_transfer,
        Action.get_composite_schedule,
        Action.get_configuration,
        Action.get_diagnostics,
        Action.get_local_list_version,
        Action.remote_start_transaction,
        Action.remote_stop_transaction,
        Action.reserve_now,
        Action.reset,
        Action.send_local_list,
        Action.set_charging_profile,
        Action.trigger_message,
        Action.unlock_connector,
        Action.update_firmware,
    }
)

#: Actions of the 1.6 security extension ("Improved security for OCPP 1.6-J", edition 2), supported by
#: the simulated charger (answers in ``answers/security.py``, events in ``security_events.py``).
SECURITY_EXTENSION: frozenset[Action] = frozenset(
    {
        Action.certificate_signed,
        Action.delete_certificate,
        Action.extended_trigger_message,
        Action.get_installed_certificate_ids,
        Action.get_log,
        Action.install_certificate,
        Action.log_status_notification,
        Action.security_event_notification,
        Action.sign_certificate,
        Action.signed_firmware_status_notification,
        Action.signed_update_firmware,
    }
)

KNOWN_ACTIONS: frozenset[str] = frozenset(a.value for a in Action)
