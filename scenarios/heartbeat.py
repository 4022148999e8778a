"""The Tool's heartbeat during a run, never ahead of a BootNotification.

A charger keeps heartbeating (every HeartbeatInterval from the BootNotification.conf), so a CSMS
does not drop it while an operator takes time over a prompt. Two rules bound it:

* OCPP 1.6 §4.2: after a (re)boot the charge point sends nothing but BootNotification until one
  is Accepted. The runner *holds* the heartbeat from the moment the connection is closed, cut or
  re-opened (a reset, a power loss, "The OCTT closes the connection", an offline period) until a
  BootNotification on the new connection is Accepted, or the clean-up after the case is done.
* OCPP-J §4.1.1: at most one outstanding CALL. The connection serializes calls, so a heartbeat
  waits for a case's call to be answered and the other way round.
"""

from __future__ import annotations

import time

from ocpp_users.ocppj.errors import VolatileOcppError
from ocpp_users.v16.station import Station


class Heartbeats:
    """Sends a Heartbeat.req every HeartbeatInterval while not held, connected and Accepted."""

    def __init__(self, cp: Station, poll: float = 0.1) -> None:
        self.cp = cp
        self.held = False
        """While True nothing is sent (set when the connection goes away, cleared after a boot)."""
        self.sent = 0
        self._poll = poll
        self._last = time.monotonic()

    def hold(self) -> None:
        self.held = True

    def release(self) -> None:
        self.held = False

    def may_send(self) -> bool:
        return not self.held and self.cp.connected and self.cp.registration == "Accepted"

    def run(self) -> None:
        """The loop (the runner spawns it on the charge point); it ends when the charge point stops."""
        while not self.cp.wait_stopping(self._poll):
            interval = self.cp.effective_heartbeat_interval
            if interval <= 0 or time.monotonic() - self._last < interval or not self.may_send():
                continue
            self._last = time.monotonic()
            self.sent += 1
            try:
                self.cp.heartbeat()
            except VolatileOcppError:
                pass
