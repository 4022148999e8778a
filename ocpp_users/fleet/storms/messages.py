"""The messages between the master and the workers, and the call that characterises each storm."""

from __future__ import annotations

from ocpp_users.ocppj.sink import CP_TO_CSMS, WEBSOCKET

MSG_COMMAND = "vocpp_storm"
"""master -> workers: ``{"kind": ..., "round": n, ...}``."""
MSG_RESULT = "vocpp_storm_result"
"""worker -> master: the outcome of one round on that worker."""
MSG_STATE = "vocpp_fleet_state"
"""worker -> master: that worker's fleet counts (a few times a second, when they change)."""
STATE_INTERVAL = 0.25
STATE_REFRESH = 2.0
"""Counts are re-sent at least this often even when unchanged."""
PRIMARY = {
    "boot": (CP_TO_CSMS, "BootNotification"),
    "drop": (WEBSOCKET, "reconnect"),
    "charge": (CP_TO_CSMS, "StartTransaction"),
}
"""The call whose latency characterises each kind of storm."""
