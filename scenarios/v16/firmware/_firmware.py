"""What the firmware and diagnostics cases share: the requests the Tool asks for, the notifications
it sends, and the wait for a retrieveDate."""

from __future__ import annotations

from datetime import datetime, timedelta

from scenarios.context import Context, timestamp
from scenarios.wire import InboundCall


def update_firmware(ctx: Context, *, step: object) -> InboundCall:
    """ "The Central System sends a UpdateFirmware.req" for <Firmware Download URL>, to retrieve now."""
    payload = {"location": ctx.options.test_data.firmware_url, "retrieveDate": timestamp()}
    call = ctx.csms_call("UpdateFirmware", payload, step=step)
    _wait_until_retrieve_date(ctx, call, step)
    return call


def _wait_until_retrieve_date(ctx: Context, call: InboundCall, step: object) -> None:
    """A charger retrieves the firmware "after" retrieveDate (OCPP 1.6 §6.44): the Tool waits for a
    date in the future, at most the step timeout (beyond that it notes it and goes on)."""
    text = call.payload.get("retrieveDate")
    try:
        when = datetime.fromisoformat(str(text).replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return
    if when.tzinfo is None:
        return
    wait = (when - datetime.fromtimestamp(ctx.now(), when.tzinfo)).total_seconds()
    if wait <= 0:
        return
    if wait > ctx.step_timeout:
        ctx.note(
            f"step {step}: retrieveDate {text} is {timedelta(seconds=round(wait))} away; the Tool waited "
            f"{ctx.step_timeout:g} s (--step-timeout) and went on"
        )
        wait = ctx.step_timeout
    ctx.sleep(wait)


def firmware_status(ctx: Context, status: str, *, step: object) -> None:
    """FirmwareStatusNotification.req with ``status``; the CSMS must answer with a valid conf."""
    ex = ctx.exchange("FirmwareStatusNotification", {"status": status}, step=step)
    ctx.cp.state.firmware_status = status
    ctx.expect_own("status", status, ex.request, step=step, message="FirmwareStatusNotification.req")


def diagnostics_status(ctx: Context, status: str, *, step: object) -> None:
    """DiagnosticsStatusNotification.req with ``status``; the CSMS must answer with a valid conf."""
    ex = ctx.exchange("DiagnosticsStatusNotification", {"status": status}, step=step)
    ctx.cp.state.diagnostics_status = status
    ctx.expect_own("status", status, ex.request, step=step, message="DiagnosticsStatusNotification.req")


def all_connectors(ctx: Context, status: str, *, step: object) -> None:
    """ "[The Charge Point reports the status of all connectors]": connector 0 and each one."""
    special = dict.fromkeys(ctx.cp.connectors, status)
    for ex in ctx.statuses(step=step, special=special):
        ctx.expect_own("status", status, ex.request, step=step, message="StatusNotification.req")


def install(ctx: Context, outcome: str) -> None:
    """Steps 7 to 16 of TC_044_1/TC_044_3: connectors Unavailable, Installing, the reboot and
    BootNotification (Accepted), connectors Available, then ``outcome``."""
    all_connectors(ctx, "Unavailable", step=7)
    firmware_status(ctx, "Installing", step=9)
    ctx.reboot(11)  # BootNotification (11), Accepted (12), every connector Available (13)
    firmware_status(ctx, outcome, step=15)
