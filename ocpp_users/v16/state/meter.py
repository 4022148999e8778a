"""A connector's energy meter: Energy.Active.Import.Register rises monotonically from a power
drawn from a realistic range, limited by any smart charging limit in force, until the EV's
battery is full (an EV that is full draws nothing: OCPP 1.6 §7.7 SuspendedEV, "the EV is
connected to the EVSE and the EVSE is offering energy but the EV is not taking any energy")."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime
from typing import Any

NOMINAL_VOLTAGE = 230.0
NOMINAL_FREQUENCY = 50.0
MAX_POWER_W = 22000.0
"""What the EVSE can offer (Power.Offered without a charging limit)."""

SUPPORTED_MEASURANDS = frozenset(
    {
        "Current.Import",
        "Current.Offered",
        "Energy.Active.Import.Register",
        "Frequency",
        "Power.Active.Import",
        "Power.Offered",
        "SoC",
        "Temperature",
        "Voltage",
    }
)
"""The measurands this meter reports: a measurand list naming another one is Rejected (OCPP 1.6
§3.16.4: "If the comma separated list contains one or more measurands that are not supported by
this Charge Point, the Charge Point SHALL respond with ... Rejected")."""


def utc_now() -> str:
    """UTC RFC 3339 timestamp with millisecond precision, e.g. ``2026-11-24T10:00:00.123Z``."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Meter:
    """Per-connector meter, integrating power over (optionally time-compressed) time."""

    def __init__(
        self,
        power_range_w: tuple[float, float] = (7400.0, 22000.0),
        *,
        time_factor: float = 1.0,
        rng: random.Random | None = None,
        phases: int = 3,
        capacity_wh: tuple[float, float] = (60000.0, 60000.0),
    ) -> None:
        self.rng = rng or random.Random()
        self.power_range_w = power_range_w
        self.time_factor = time_factor
        """Simulated seconds per real second (a day of charging in minutes: 240 or so)."""
        self.phases = phases
        self.energy_wh = float(self.rng.randint(0, 5_000_000))
        self.soc = 20.0
        self.capacity_range_wh = capacity_wh
        """Battery sizes of the EVs that come to charge (Wh), one drawn per session."""
        self.capacity_wh = capacity_wh[0]
        self.power_w = 0.0
        self.limit_w: float | None = None
        self.offering = True
        """The EVSE offers energy (False: suspended by the EVSE, e.g. an idTag found invalid)."""
        self._last = time.monotonic()
        self._charging = False

    def start(self) -> int:
        self._advance()
        self._charging = True
        self.offering = True
        self.soc = float(self.rng.randint(10, 60))
        low, high = self.capacity_range_wh
        self.capacity_wh = low if low == high else self.rng.uniform(low, high)
        low, high = self.power_range_w
        self.power_w = self.rng.uniform(low, high)
        return self.register()

    @property
    def full(self) -> bool:
        """The EV's battery is full: it takes no more energy."""
        self._advance()
        return self._charging and self.soc >= 100.0

    def stop(self) -> int:
        self._advance()
        self._charging = False
        return self.register()

    def effective_power(self) -> float:
        if not self._charging or not self.offering:
            return 0.0
        power = self.power_w
        if self.limit_w is not None:
            power = min(power, self.limit_w)
        if self.soc >= 100.0:
            return 0.0
        return max(power, 0.0)

    def _advance(self) -> None:
        now = time.monotonic()
        elapsed = (now - self._last) * self.time_factor
        self._last = now
        if elapsed <= 0:
            return
        energy = self.effective_power() * elapsed / 3600.0
        self.energy_wh += energy
        self.soc = min(100.0, self.soc + 100.0 * energy / self.capacity_wh)

    def register(self) -> int:
        """Energy.Active.Import.Register in Wh (never decreases)."""
        self._advance()
        return int(self.energy_wh)

    def offered_w(self) -> float:
        """Power.Offered: what the EVSE offers now (its maximum, or the charging limit in force)."""
        if not self._charging or not self.offering:
            return 0.0
        return MAX_POWER_W if self.limit_w is None else min(MAX_POWER_W, self.limit_w)

    def sampled_values(self, measurands: list[str], context: str = "Sample.Periodic") -> list[dict[str, Any]]:
        self._advance()
        power = self.effective_power()
        values: list[dict[str, Any]] = []
        for measurand in measurands:
            extra = self._other_value(measurand, context)
            if extra is not None:
                values.append(extra)
                continue
            if measurand == "Energy.Active.Import.Register":
                values.append(
                    {
                        "value": str(int(self.energy_wh)),
                        "context": context,
                        "measurand": measurand,
                        "location": "Outlet",
                        "unit": "Wh",
                    }
                )
            elif measurand == "Power.Active.Import":
                values.append(
                    {
                        "value": f"{power:.1f}",
                        "context": context,
                        "measurand": measurand,
                        "location": "Outlet",
                        "unit": "W",
                    }
                )
            elif measurand == "Current.Import":
                current = power / (NOMINAL_VOLTAGE * self.phases)
                values.append(
                    {
                        "value": f"{current:.2f}",
                        "context": context,
                        "measurand": measurand,
                        "location": "Outlet",
                        "unit": "A",
                    }
                )
            elif measurand == "Voltage":
                voltage = NOMINAL_VOLTAGE + self.rng.uniform(-3.0, 3.0)
                values.append(
                    {
                        "value": f"{voltage:.1f}",
                        "context": context,
                        "measurand": measurand,
                        "location": "Outlet",
                        "unit": "V",
                    }
                )
            elif measurand == "SoC":
                values.append(
                    {
                        "value": str(int(self.soc)),
                        "context": context,
                        "measurand": measurand,
                        "location": "EV",
                        "unit": "Percent",
                    }
                )
        return values

    def _other_value(self, measurand: str, context: str) -> dict[str, Any] | None:
        """Current.Offered, Power.Offered, Frequency and Temperature (None for the others)."""
        if measurand == "Power.Offered":
            value, unit, location = f"{self.offered_w():.1f}", "W", "Outlet"
        elif measurand == "Current.Offered":
            value, unit, location = f"{self.offered_w() / (NOMINAL_VOLTAGE * self.phases):.2f}", "A", "Outlet"
        elif measurand == "Frequency":
            return {
                "value": f"{NOMINAL_FREQUENCY + self.rng.uniform(-0.05, 0.05):.2f}",
                "context": context,
                "measurand": measurand,
                "location": "Inlet",
            }
        elif measurand == "Temperature":
            heat = 25.0 + 15.0 * self.effective_power() / MAX_POWER_W
            value, unit, location = f"{heat + self.rng.uniform(-0.5, 0.5):.1f}", "Celsius", "Body"
        else:
            return None
        return {"value": value, "context": context, "measurand": measurand, "location": location, "unit": unit}

    def meter_value(
        self, measurands: list[str], context: str = "Sample.Periodic", timestamp: str | None = None
    ) -> dict[str, Any]:
        """One MeterValue: the sampled values of ``measurands`` now, stamped now (or ``timestamp``:
        a clock-aligned reading carries its interval's boundary, OCTT TC_071_CS)."""
        return {"timestamp": timestamp or utc_now(), "sampledValue": self.sampled_values(measurands, context)}
