"""OCPP 1.6J: a charger as the CSMS sees it.

:mod:`.actions` names every 1.6 action (with the security whitepaper's); :mod:`.protocol` tells
the wire about 1.6 (subprotocol, schemas, action names); :mod:`.state` is what the charger
remembers; :mod:`.link` is its connection; :mod:`.station` the runtime that boots, heartbeats,
runs :mod:`.sessions` and reconnects; :mod:`.answers` holds its answers to CSMS calls, one module
per feature profile (``answers/reservation.py`` answers ReserveNow). :mod:`.settings` configures
one station. Nothing here imports Locust.
"""
