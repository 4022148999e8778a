"""Compliance mode under Locust: the OCTT 1.6 Central System cases as one user, one stats row each.

    locust -f locustfiles/compliance.py --headless -u 1 -r 1                       # the testbed
    locust -f locustfiles/compliance.py --headless -u 1 -r 1 --host ws://csms/ocpp/ --octt-id-tag TAG1 ...

The user, its ``--octt-*`` options and exit codes are in :mod:`scenarios.locust_user`.
"""

from scenarios.locust_user import ComplianceUser  # (imports locust first: gevent patches sockets)


class ComplianceSuite(ComplianceUser):
    """Runs the selected OCTT cases once, in document order, then stops the test."""
