"""Fleet load test: one Locust User = one OCPP 1.6J charge point.

    locust -f locustfiles/fleet.py --headless -u 50 -r 10 -t 30s            # embedded testbed CSMS
    locust -f locustfiles/fleet.py --host ws://csms.example/ocpp/ -u 1000 -r 50

Without --host the embedded testbed CSMS is started on a free loopback port. The options
(``locust -f locustfiles/fleet.py --help``, group "custom options") are in
:mod:`ocpp_users.fleet_options`.
"""

from locust import events

from ocpp_users import gates
from ocpp_users.fleet_runtime import install
from ocpp_users.users import ChargePointUser

install(events)
gates.install(events)  # CI gates, --json-summary and the storm messages of locustfiles/shapes.py


class ChargePoint(ChargePointUser):
    """A charge point of the fleet."""
