"""VolatileOCPP's engine: simulated OCPP charge points, from the wire up to a Locust fleet.

Three rooms, with imports going down only (``tests/test_layout.py`` holds them to it):

``ocppj``  the wire, version-neutral: OCPP-J framing, RPC over websocket-client on gevent, one
           error class per OCPP-J code, transport and security profiles 0-3, schema validation
           given a version, the request-event sink, redaction. It knows no version's vocabulary
           and no Locust.
``v16``    OCPP 1.6: the actions, the charger's state, its link to the CSMS, the station runtime
           (boot, heartbeats, sessions, reconnect) and its answers to CSMS calls, one module per
           feature profile. It knows no Locust.
``fleet``  Locust: the charge point User, options, run state, the Charge points tab, load
           fidelity, CI gates and the JSON summary, storms and load shapes, charge point ids.

``embedded`` starts the reference CSMS (``testbed/``) as a child process, for the fleet, the
compliance demo, the tests and the benchmarks alike; nothing here imports the testbed.

Importing this package does not import Locust or monkey-patch anything: the entry points in
``locustfiles/`` import Locust first, as gevent requires.
"""

__version__ = "0.1.0"
