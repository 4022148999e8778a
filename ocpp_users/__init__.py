"""VolatileOCPP charge point engine: OCPP 1.6J over websocket-client and gevent.

Importing this package does not import locust or monkey-patch anything; the Locust
``User`` classes live in :mod:`ocpp_users.users` and the entry points in ``locustfiles/``
import locust first, as gevent requires.
"""

__version__ = "0.1.0"
