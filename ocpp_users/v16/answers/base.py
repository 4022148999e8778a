"""What every feature profile's answers share: the station they answer for, and follow-ups."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, ClassVar

from ocpp_users.v16.state import StationState

if TYPE_CHECKING:
    from ocpp_users.v16.station import Station


def parse_timestamp(timestamp: object) -> datetime | None:
    """An RFC 3339 ``timestamp`` as an aware datetime (UTC when it names no offset), or None."""
    if not isinstance(timestamp, str):
        return None
    try:
        when = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def seconds_until(timestamp: object) -> float:
    """Seconds from now until an RFC 3339 ``timestamp`` (0 when it is past or unreadable)."""
    when = parse_timestamp(timestamp)
    if when is None:
        return 0.0
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class ProfileAnswers:
    """The answers of one OCPP 1.6 feature profile; its ``@on`` methods go into the station's table."""

    profile: ClassVar[str] = ""
    """The feature profile's name as SupportedFeatureProfiles lists it (``Core``, ``Reservation``, ...)."""

    def __init__(self, station: Station) -> None:
        self.station = station

    @property
    def state(self) -> StationState:
        return self.station.state

    @property
    def follow_up(self) -> bool:
        """Act on requests as a charger does (the compliance runner turns it off and scripts the steps)."""
        return self.station.settings.behaviour.auto_follow_up

    def later(self, func: Callable[[], object]) -> Callable[[], object] | None:
        """A follow-up to run once the answer is on the wire, spawned so that the handling greenlet
        ends at once (None when follow-ups are off)."""
        if not self.follow_up:
            return None
        station = self.station

        def run() -> None:
            station.spawn(station.quietly, func)

        return run
