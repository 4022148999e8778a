"""A connector's energy meter: Energy.Active.Import.Register rises monotonically from a power
drawn from a realistic range, limited by any smart charging limit in force."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime
from typing import Any

NOMINAL_VOLTAGE = 230.0


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
    ) -> None:
        self.rng = rng or random.Random()
        self.power_range_w = power_range_w
        self.time_factor = time_factor
        """Simulated seconds per real second (a day of charging in minutes: 240 or so)."""
        self.phases = phases
        self.energy_wh = float(self.rng.randint(0, 5_000_000))
        self.soc = 20.0
        self.capacity_wh = 60000.0
        self.power_w = 0.0
        self.limit_w: float | None = None
        self._last = time.monotonic()
        self._charging = False

    def start(self) -> int:
        self._advance()
        self._charging = True
        self.soc = float(self.rng.randint(10, 60))
        low, high = self.power_range_w
        self.power_w = self.rng.uniform(low, high)
        return self.register()

    def stop(self) -> int:
        self._advance()
        self._charging = False
        return self.register()

    def effective_power(self) -> float:
        if not self._charging:
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

    def sampled_values(self, measurands: list[str], context: str = "Sample.Periodic") -> list[dict[str, Any]]:
        self._advance()
        power = self.effective_power()
        values: list[dict[str, Any]] = []
        for measurand in measurands:
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

    def meter_value(self, measurands: list[str], context: str = "Sample.Periodic") -> dict[str, Any]:
        return {"timestamp": utc_now(), "sampledValue": self.sampled_values(measurands, context)}
