"""A charging session on one connector, as a charger runs it.

Preparing -> authorization (OCPP 1.6 §3.5, §4.1) -> the EV is plugged in (within ConnectionTimeOut)
-> StartTransaction -> Charging -> MeterValues every MeterValueSampleInterval (SuspendedEV once the
battery is full) -> the session ends (the driver, the CSMS, the EV side unplugged) ->
StopTransaction -> Finishing -> Available.

Offline the session runs the same way: authorization comes from the local list, the cache or
AllowOfflineTxForUnknownId, the transaction messages are queued with the time they happened
(:mod:`.transactions`) and the status changes are reported once the charger is back online.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from ocpp_users.ocppj import pacing
from ocpp_users.ocppj.errors import CallCancelled, ConnectionLost, RejectedError, VolatileOcppError
from ocpp_users.v16.state.status import ChargePointStatus

if TYPE_CHECKING:
    from ocpp_users.v16.state.connectors import Connector
    from ocpp_users.v16.station import Station

log = logging.getLogger(__name__)
S = ChargePointStatus

EV_SIDE_DISCONNECTED = "EV side disconnected"
"""The StatusNotification info of a transaction kept going after the EV side was unplugged (OCTT
TC_005_3_CS: "info is EV side disconnected")."""


def id_tag_status(result: object) -> object:
    """``idTagInfo.status`` of an Authorize/StartTransaction answer, or None when it is missing."""
    info = result.get("idTagInfo") if isinstance(result, dict) else None
    return info.get("status") if isinstance(info, dict) else None


def authorized(cp: Station, id_tag: str) -> bool:
    """Whether the charger lets ``id_tag`` start a transaction now.

    Online (connected, Accepted): with LocalPreAuthorize and the idTag Accepted by the local list
    or the cache, at once without an Authorize.req (§9.1.13; OCTT TC_007_CS); otherwise the CSMS
    decides (§4.1: "If an idTag presented by the user is not present in the Local Authorization
    List or Authorization Cache, then the Charge Point SHALL send an Authorize.req"; §3.5.1: a
    NOT-valid cache entry is checked with the CSMS too). A connection lost while asking falls back
    to the offline rules.

    Offline (§3.5.4): an idTag the local list or the cache holds as anything but Accepted (expired
    by its expiryDate included) is rejected; an Accepted one is let in when LocalAuthorizeOffline
    is true (§9.1.12); one neither knows ("unknown") only when AllowOfflineTxForUnknownId is true
    (§9.1.1).
    """
    local = cp.state.authorization
    known = local.status(id_tag)
    config = cp.configuration
    if cp.online:
        if known == "Accepted" and config.get_bool("LocalPreAuthorize"):
            return True
        try:
            answer = cp.authorize(id_tag)
        except RejectedError as exc:  # strict mode: counted already
            return id_tag_status(exc.payload) == "Accepted"
        except (ConnectionLost, CallCancelled):  # the CSMS dropped us, or a storm of ours did
            if cp.stopping:
                return False
            known = local.status(id_tag)  # offline from here
        else:
            return id_tag_status(answer) == "Accepted"
    if known is not None and known != "Accepted":
        return False
    if known == "Accepted" and config.get_bool("LocalAuthorizeOffline"):
        return True
    return config.get_bool("AllowOfflineTxForUnknownId")


def _plugged_in(cp: Station, connector: Connector, delay: float, since: float) -> bool:
    """Wait ``delay`` seconds for the EV to be plugged in; False when ConnectionTimeOut (counted
    "from beginning of status: 'Preparing'", §9.1.6 and errata 3.76) runs out first, or the
    session is stopped meanwhile. A ConnectionTimeOut of 0 waits as long as it takes."""
    if delay <= 0:
        return True
    timeout = cp.configuration.get_int("ConnectionTimeOut", 0)
    left = since + timeout - time.monotonic()
    if timeout <= 0 or delay <= left:
        return not pacing.wait(connector.stop_event, delay)
    pacing.wait(connector.stop_event, max(0.0, left))  # the EV would come too late
    return False


def _idle_status(connector: Connector) -> ChargePointStatus:
    """Where a connector goes when its session is over: Faulted while a fault is in force, else
    Available (Unavailable when set inoperative)."""
    if connector.fault is not None:
        return S.faulted
    return S.available if connector.operative else S.unavailable


def _seconds_to_full(cp: Station, connector: Connector) -> float | None:
    """Real seconds until the EV's battery is full at the power it draws now (None: never)."""
    meter = connector.meter
    power = meter.effective_power()
    if power <= 0 or meter.full:
        return None
    missing_wh = meter.capacity_wh * (100.0 - meter.soc) / 100.0
    return missing_wh / power * 3600.0 / max(meter.time_factor, 1e-9)


def run_session(
    cp: Station,
    connector_id: int,
    id_tag: str,
    duration_s: float | None,
    *,
    authorize: bool = True,
    default_stop_reason: str = "Local",
    reservation_id: int | None = None,
    plug_in_delay: float = 0.0,
) -> None:
    """Run one session to its end; failures are already counted by the engine's events."""
    connector = cp.connectors[connector_id]
    try:
        preparing_since = time.monotonic()
        if connector.status != S.preparing:
            cp.report_status(connector_id, S.preparing)
        if authorize and not authorized(cp, id_tag):
            cp.report_status(connector_id, _idle_status(connector), connector.fault or "NoError")
            return
        if connector.fault is not None or not _plugged_in(cp, connector, plug_in_delay, preparing_since):
            # ConnectionTimeOut: "The Charge Point SHALL go back to the original state, typically:
            # 'Available'" (errata 3.76; OCTT TC_004_2_CS, TC_011_2_CS).
            cp.report_status(connector_id, _idle_status(connector), connector.fault or "NoError")
            return
        try:
            started = cp.start_transaction(connector_id, id_tag, reservation_id)
        except RejectedError as exc:  # strict mode: already counted as a failure
            started = exc.payload if isinstance(exc.payload, dict) else {}
        if started is not None and id_tag_status(started) != "Accepted":
            if cp.configuration.get_bool("StopTransactionOnInvalidId", True):
                # Errata 3.17: with StopTransactionOnInvalidId true, a transaction whose
                # StartTransaction.conf is not Accepted is stopped, reason DeAuthorized.
                if connector.transaction_id is not None:
                    cp.stop_transaction(connector_id, "DeAuthorized")
                else:
                    connector.transaction = None
                cp.report_status(connector_id, S.finishing)
                cp.report_status(connector_id, _idle_status(connector), connector.fault or "NoError")
                return
            # ... "when StopTransactionOnInvalidId is set to false: only stop energy delivery to the
            # vehicle" (OCTT TC_037_2_CS: SuspendedEVSE).
            cp.suspend_energy(connector_id)
        else:
            cp.report_status(connector_id, S.charging)
        _charge(cp, connector, duration_s)
        reason = connector.stop_reason or default_stop_reason
        unplugged_at_ev = connector.stop_reason is None and reason == "EVDisconnected"
        if unplugged_at_ev and not cp.configuration.get_bool("StopTransactionOnEVSideDisconnect", True):
            # §4.10: "If StopTransactionOnEVSideDisconnect is set to false, the transaction SHALL not
            # be stopped when the cable is disconnected from the EV" (OCTT TC_005_3_CS: SuspendedEV,
            # info "EV side disconnected"); it ends when the driver comes back with the card (Local)
            # or the CSMS stops it (Remote).
            connector.meter.offering = False
            cp.report_status(connector_id, S.suspended_ev, info=EV_SIDE_DISCONNECTED)
            pacing.wait(connector.stop_event, cp.draw(cp.settings.habits.driver_return))
            reason = connector.stop_reason or "Local"
            unplugged_at_ev = False
        id_tag_stop = id_tag if reason == "Local" else None
        cp.stop_transaction(connector_id, reason, id_tag=id_tag_stop)
        if connector.scheduled_operative is not None:
            connector.operative = connector.scheduled_operative
            connector.scheduled_operative = None
        cp.report_status(connector_id, S.finishing)
        if unplugged_at_ev and not cp.configuration.get_bool("UnlockConnectorOnEVSideDisconnect", True):
            # §4.10: "With UnlockConnectorOnEVSideDisconnect set to false, the Connector SHALL remain
            # locked at the Charge Point until the user presents the identifier" (or the CSMS sends
            # UnlockConnector, OCTT TC_005_2_CS): Finishing until then.
            connector.stop_reason = None
            connector.stop_event.clear()
            pacing.wait(connector.stop_event, cp.draw(cp.settings.habits.driver_return))
        cp.report_status(connector_id, _idle_status(connector), connector.fault or "NoError")
    except VolatileOcppError as exc:
        cp.last_error = exc.reason
        connector.transaction = None
        connector.transaction_id = None
        cp.set_status(connector_id, S.finishing)
        cp.set_status(connector_id, _idle_status(connector), connector.fault or "NoError")
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


def _charge(cp: Station, connector: Connector, duration_s: float | None) -> None:
    """The transaction's charging time: a reading every MeterValueSampleInterval from the start of
    the transaction (§9.1.19; queued while offline, OCTT TC_036_CS wants them that far apart),
    SuspendedEV once the battery is full (the EV "is not taking any energy", §7.7), until the
    session is stopped or ``duration_s`` is over."""
    connector_id = connector.connector_id
    clock = time.monotonic
    deadline = None if duration_s is None else clock() + duration_s
    next_sample: float | None = None
    while True:
        now = clock()
        if deadline is not None and now >= deadline:
            return
        interval = cp.meter_interval
        if interval <= 0:
            next_sample = None
        elif next_sample is None or next_sample - now > interval:
            next_sample = now + interval  # the first one, or the interval was shortened
        # A sample is due only when a whole MeterValueSampleInterval passes within the session:
        # a session shorter than the interval sends none (a real charger samples on its clock).
        due = next_sample if next_sample is not None and (deadline is None or next_sample <= deadline) else None
        full_in = _seconds_to_full(cp, connector) if connector.status == S.charging else None
        wake = min(
            (t for t in (due, deadline, None if full_in is None else now + full_in + 0.01) if t is not None),
            default=None,
        )
        if pacing.wait(connector.stop_event, None if wake is None else max(0.0, wake - now)):
            return
        if due is not None and clock() >= due - 0.001:
            next_sample = due + interval
            observer = cp.schedule_observer
            if observer is not None and cp.online:
                observer("MeterValues", due - interval, interval)
            try:
                cp.sample(connector_id)
            except VolatileOcppError:
                pass
        if connector.status == S.charging and connector.meter.full:
            cp.report_status(connector_id, S.suspended_ev)
