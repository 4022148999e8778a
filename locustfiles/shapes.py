"""Load shapes for the fleet (``--shape steady|boot-storm|reconnect-storm|rolling-restart|peak-hour``).

    locust -f locustfiles/fleet.py,locustfiles/shapes.py --shape boot-storm --headless -u 1000 -r 100

The shapes and their options live in :mod:`ocpp_users.fleet.shapes`; see docs/distributed.md.
"""

from ocpp_users.fleet.shapes import BootStorm, PeakHour, ReconnectStorm, RollingRestart, SteadyRamp

__all__ = ["BootStorm", "PeakHour", "ReconnectStorm", "RollingRestart", "SteadyRamp"]
