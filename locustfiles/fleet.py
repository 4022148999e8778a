"""Fleet load test: one Locust User = one OCPP 1.6J charge point.

    locust -f locustfiles/fleet.py --headless -u 50 -r 10 -t 30s            # embedded testbed CSMS
    locust -f locustfiles/fleet.py --host ws://csms.example/ocpp/ -u 1000 -r 50

Without --host the embedded testbed CSMS is started on a free loopback port (master or local
runner; remote workers need --host). The fleet's options (--id-tag, --connectors,
--cp-id-template, --security-profile, --session-duration, ... each with a LOCUST_... variable,
all in the web UI) are listed in :mod:`ocpp_users.fleet_options`; Locust's --help is printed
before the locustfile loads, so it does not show them.
"""

from locust import events

from ocpp_users.fleet import gates
from ocpp_users.fleet.runtime import install
from ocpp_users.fleet.users import ChargePointUser

install(events)
gates.install(events)  # CI gates, --json-summary and the storm messages of locustfiles/shapes.py


class ChargePoint(ChargePointUser):
    """A charge point of the fleet."""
