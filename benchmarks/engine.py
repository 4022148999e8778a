"""Every name the benchmarks take from the engine (``ocpp_users``), imported here and nowhere else.

When the engine's files move (``ocpp_users/transport.py`` and ``frames.py`` to ``ocpp_users/ocppj/``,
the charger to ``ocpp_users/v16/``), only these imports change. Import gevent's monkey-patching
(``import locust`` or ``gevent.monkey.patch_all()``) before this module: the engine makes sockets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ocpp_users import schemas
from ocpp_users.errors import VolatileOcppError
from ocpp_users.fidelity import FidelityTracker
from ocpp_users.settings import ChargePointSettings
from ocpp_users.simulated import SimulatedChargePoint
from ocpp_users.sink import CP_TO_CSMS, WEBSOCKET, RequestSink, null_sink
from ocpp_users.transport import FrameReader, SecurityConfig, send_text
from ocpp_users.transport import connect as ws_connect

if TYPE_CHECKING:
    from ocpp_users.embedded import TestbedProcess

__all__ = [
    "CP_TO_CSMS",
    "WEBSOCKET",
    "ChargePointSettings",
    "FidelityTracker",
    "FrameReader",
    "RequestSink",
    "SecurityConfig",
    "SimulatedChargePoint",
    "VolatileOcppError",
    "null_sink",
    "schemas",
    "send_text",
    "ws_connect",
]


def testbed_process(args: list[str]) -> TestbedProcess:
    """The reference CSMS (``python -m testbed``) as a child process (``ocpp_users.embedded``)."""
    from ocpp_users.embedded import TestbedProcess

    return TestbedProcess(args)
