"""What the smart charging cases share: the charging profiles the Tool asks for (from the test
data: stack level, rate unit, duration, start period, number of phases, limit 6.0 A or 6000.0 W)
and the Accepted answer of a real charger."""

from __future__ import annotations

import itertools
import time
from typing import Any

from scenarios.context import Context, timestamp
from scenarios.wire import InboundCall

_ids = itertools.count(int(time.time()) % 100_000 * 10 + 1)

DAY = 86400.0


def next_profile_id() -> int:
    """A chargingProfileId for the Tool's request (the CSMS generates its own)."""
    return next(_ids)


def schedule(ctx: Context, *, start: bool = True) -> dict[str, Any]:
    """A chargingSchedule from the test data: one period of 6.0 A (or 6000.0 W)."""
    data = ctx.options.test_data
    period: dict[str, Any] = {"startPeriod": data.start_period, "limit": data.limit}
    if data.number_phases != 3:
        period["numberPhases"] = data.number_phases
    body: dict[str, Any] = {
        "duration": data.duration,
        "chargingRateUnit": data.charging_rate_unit,
        "chargingSchedulePeriod": [period],
    }
    if start:
        body["startSchedule"] = timestamp()
    return body


def tx_default_profile(ctx: Context, stack_level: int) -> dict[str, Any]:
    """SetChargingProfile.req for <Configured connectorId>: a TxDefaultProfile, Absolute, valid
    from now for a day."""
    now = ctx.now()
    return {
        "connectorId": ctx.connector_id,
        "csChargingProfiles": {
            "chargingProfileId": next_profile_id(),
            "stackLevel": stack_level,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "validFrom": timestamp(now),
            "validTo": timestamp(now + DAY),
            "chargingSchedule": schedule(ctx),
        },
    }


def set_profile_accepted(ctx: Context, call: InboundCall, *, step: object) -> None:
    """SetChargingProfile.conf Accepted, as a charger answers it: for a connector it has, a stack
    level it supports, a purpose that fits (a TxProfile only for the running transaction)."""
    ctx.charger_answer(
        call,
        "Accepted",
        step=step,
        field="csChargingProfiles",
        wanted=f"a profile the charge point can install on connector {ctx.connector_id}",
    )
