"""Fleet load test: one Locust User = one OCPP 1.6J charge point.

    locust -f locustfiles/fleet.py --headless -u 50 -r 10 -t 30s            # embedded testbed CSMS
    locust -f locustfiles/fleet.py --host ws://csms.example/ocpp/ -u 1000 -r 50

Without --host the embedded testbed CSMS is started on a free loopback port (master or local
runner; remote workers need --host). The fleet's options (``volatileocpp fleet-options``) are
declared in :mod:`ocpp_users.fleet.options`; Locust prints its --help before the locustfile loads.
"""

from ocpp_users.fleet.plugin import ChargePointUser  # (imports locust first: gevent patches sockets)


class ChargePoint(ChargePointUser):
    """A charge point of the fleet."""
