"""Every name the benchmarks take from the engine (``ocpp_users``), imported here and nowhere else.

When the engine's files move, only these imports change. Import gevent's monkey-patching
(``import locust`` or ``gevent.monkey.patch_all()``) before this module: the engine makes sockets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ocpp_users.fleet.fidelity import FidelityTracker
from ocpp_users.ocppj.errors import VolatileOcppError
from ocpp_users.ocppj.pacing import MODES as PACING_MODES
from ocpp_users.ocppj.pacing import set_pacing, set_precise, sleep_until
from ocpp_users.ocppj.pacing import wait as pacing_wait
from ocpp_users.ocppj.sink import CP_TO_CSMS, WEBSOCKET, RequestSink, null_sink
from ocpp_users.ocppj.transport import FrameReader, SecurityConfig, send_text
from ocpp_users.ocppj.transport import connect as _connect
from ocpp_users.v16.protocol import SCHEMAS, VERSION
from ocpp_users.v16.settings import ChargePointSettings
from ocpp_users.v16.station import Station


def ws_connect(url: str, cp_id: str, security: SecurityConfig, *, timeout: float = 10.0) -> Any:
    """The engine's WebSocket connect, asking for OCPP 1.6."""
    return _connect(url, cp_id, security, subprotocol=VERSION.subprotocol, timeout=timeout)


if TYPE_CHECKING:
    from ocpp_users.embedded import TestbedProcess

__all__ = [
    "CP_TO_CSMS",
    "PACING_MODES",
    "SCHEMAS",
    "WEBSOCKET",
    "ChargePointSettings",
    "FidelityTracker",
    "FrameReader",
    "RequestSink",
    "SecurityConfig",
    "Station",
    "VolatileOcppError",
    "null_sink",
    "pacing_wait",
    "send_text",
    "set_pacing",
    "set_precise",
    "sleep_until",
    "ws_connect",
]


def testbed_process(args: list[str]) -> TestbedProcess:
    """The reference CSMS (``python -m testbed``) as a child process (``ocpp_users.embedded``)."""
    from ocpp_users.embedded import TestbedProcess

    return TestbedProcess(args)
