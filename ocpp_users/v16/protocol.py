"""OCPP 1.6J as the wire sees it: subprotocol ``ocpp1.6``, the official 1.6 schemas (with the
security whitepaper's messages) shipped in the ``ocpp`` package, and every 1.6 action name."""

from __future__ import annotations

from ocpp_users.ocppj.schemas import SchemaSet
from ocpp_users.ocppj.version import OcppVersion
from ocpp_users.v16.actions import KNOWN_ACTIONS

SCHEMAS = SchemaSet("ocpp.v16")
"""The official OCPP 1.6 JSON schemas; violations are named ``Action.req`` / ``Action.conf``."""

VERSION = OcppVersion(name="1.6", subprotocol="ocpp1.6", schemas=SCHEMAS, actions=KNOWN_ACTIONS)
"""From OCPP-J 1.6 §3.1.2: the charge point asks for subprotocol ``ocpp1.6``."""
