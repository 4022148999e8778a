"""Smart charging profiles and the limit they impose (OCPP 1.6 §3.13).

From the specification: "At any point in time the prevailing charging limit SHALL be the minimum
of the limits imposed by ChargePointMaxProfile and the TxProfile or TxDefaultProfile", the
highest stackLevel of each purpose taking precedence.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ocpp_users.v16.state.meter import NOMINAL_VOLTAGE

#: Most limit samples :meth:`ProfileStore.composite` takes (a week at minute resolution).
MAX_SAMPLES = 7 * 24 * 60


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


class ProfileStore:
    def __init__(self, phases: int = 3) -> None:
        self.phases = phases
        #: connector id -> {(purpose, stackLevel): profile}
        self.by_connector: dict[int, dict[tuple[str, int], dict[str, Any]]] = {}
        self.tx_start: dict[int, datetime] = {}

    def install(self, connector_id: int, profile: dict[str, Any]) -> None:
        slot = self.by_connector.setdefault(connector_id, {})
        for key, existing in list(slot.items()):
            if existing.get("chargingProfileId") == profile.get("chargingProfileId"):
                del slot[key]
        slot[(profile["chargingProfilePurpose"], int(profile["stackLevel"]))] = profile

    def count(self) -> int:
        """Charging profiles installed, on every connector."""
        return sum(len(slot) for slot in self.by_connector.values())

    def would_exceed(self, connector_id: int, profile: dict[str, Any], most: int) -> bool:
        """Installing ``profile`` would leave more than ``most`` profiles installed (one that replaces
        another, by chargingProfileId or by purpose and stack level, adds none)."""
        replaced = 0
        key = (profile.get("chargingProfilePurpose"), profile.get("stackLevel"))
        for cid, slot in self.by_connector.items():
            for (purpose, level), existing in slot.items():
                same_id = existing.get("chargingProfileId") == profile.get("chargingProfileId")
                if (cid == connector_id and (purpose, level) == key) or (cid == connector_id and same_id):
                    replaced += 1
        return self.count() - replaced + 1 > most

    def clear(self, request: dict[str, Any]) -> bool:
        """Apply a ClearChargingProfile.req; True when something matched."""
        matched = False
        for connector_id, slot in self.by_connector.items():
            for key, profile in list(slot.items()):
                if "id" in request and request["id"] != profile.get("chargingProfileId"):
                    continue
                if "connectorId" in request and request["connectorId"] != connector_id:
                    continue
                if "chargingProfilePurpose" in request and request["chargingProfilePurpose"] != key[0]:
                    continue
                if "stackLevel" in request and request["stackLevel"] != key[1]:
                    continue
                del slot[key]
                matched = True
        return matched

    def clear_tx_profiles(self, connector_id: int) -> None:
        """From the specification: a TxProfile is deleted when its transaction ends."""
        slot = self.by_connector.get(connector_id, {})
        for key in [k for k in slot if k[0] == "TxProfile"]:
            del slot[key]
        self.tx_start.pop(connector_id, None)

    def _period_limit(self, profile: dict[str, Any], connector_id: int, at: datetime) -> float | None:
        schedule = profile.get("chargingSchedule", {})
        kind = profile.get("chargingProfileKind")
        start = _parse_time(schedule.get("startSchedule"))
        if kind == "Relative":
            start = self.tx_start.get(connector_id, at)
        if start is None:
            start = at
        offset = (at - start).total_seconds()
        if kind == "Recurring":
            period = 86400 if profile.get("recurrencyKind") == "Daily" else 7 * 86400
            offset %= period
        duration = schedule.get("duration")
        if offset < 0 or (duration is not None and offset >= duration):
            return None
        valid_from = _parse_time(profile.get("validFrom"))
        valid_to = _parse_time(profile.get("validTo"))
        if (valid_from and at < valid_from) or (valid_to and at >= valid_to):
            return None
        limit: float | None = None
        for period_ in schedule.get("chargingSchedulePeriod", []):
            if period_.get("startPeriod", 0) <= offset:
                limit = float(period_["limit"])
                phases = period_.get("numberPhases", self.phases)
                if schedule.get("chargingRateUnit") == "A":
                    limit = limit * NOMINAL_VOLTAGE * phases
        return limit

    def limit_w(self, connector_id: int, at: datetime | None = None) -> float | None:
        """The prevailing limit in W on a connector now, or None when unlimited."""
        at = at or datetime.now(UTC)
        limits: list[float] = []
        for purposes, ids in (
            (("ChargePointMaxProfile",), (0,)),
            (("TxProfile", "TxDefaultProfile"), (connector_id, 0)),
        ):
            chosen: float | None = None
            for purpose in purposes:
                for cid in ids:
                    candidates = sorted(
                        ((level, p) for (pp, level), p in self.by_connector.get(cid, {}).items() if pp == purpose),
                        key=lambda item: -item[0],
                    )
                    for _, profile in candidates:
                        value = self._period_limit(profile, connector_id, at)
                        if value is not None:
                            chosen = value
                            break
                    if chosen is not None:
                        break
                if chosen is not None:
                    break
            if chosen is not None:
                limits.append(chosen)
        return min(limits) if limits else None

    def composite(self, connector_id: int, duration: int, unit: str | None) -> dict[str, Any]:
        """A chargingSchedule for GetCompositeSchedule.conf, sampled at each minute boundary."""
        now = datetime.now(UTC).replace(microsecond=0)
        rate_unit = unit or "W"
        periods: list[dict[str, Any]] = []
        # Minute resolution, but at most MAX_SAMPLES samples: a huge duration must not stall the hub.
        step = max(60, -(-duration // MAX_SAMPLES)) if duration > 60 else max(duration, 1)
        last: float | None = -1.0
        for offset in range(0, max(duration, 1), step):
            limit = self.limit_w(connector_id, now + timedelta(seconds=offset))
            if limit is None:
                limit = 22000.0
            if rate_unit == "A":
                limit = limit / (NOMINAL_VOLTAGE * self.phases)
            if limit != last:
                periods.append({"startPeriod": offset, "limit": round(limit, 1)})
                last = limit
        return {
            "duration": duration,
            "startSchedule": now.isoformat().replace("+00:00", "Z"),
            "chargingRateUnit": rate_unit,
            "chargingSchedulePeriod": periods,
        }
