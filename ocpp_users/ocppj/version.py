"""What the wire needs to know of an OCPP version: its subprotocol, its schemas, its action names.

The wire (framing, RPC, transport) is the same for OCPP 1.6J and 2.0.1; each version package
(``ocpp_users.v16``, later ``ocpp_users.v201``) describes itself with one :class:`OcppVersion`
and hands it to the connection, so nothing here names a version's vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass

from ocpp_users.ocppj.schemas import SchemaSet


@dataclass(frozen=True, slots=True)
class OcppVersion:
    """One OCPP version as the wire sees it."""

    name: str
    """For messages: ``"1.6"``."""
    subprotocol: str
    """The WebSocket subprotocol a charge point asks for (OCPP-J 1.6 §3.1.2: ``ocpp1.6``)."""
    schemas: SchemaSet
    """The official JSON schemas of the version's messages."""
    actions: frozenset[str]
    """Every action the version defines: a CALL for one of them that a station does not handle is
    answered NotSupported, any other NotImplemented (OCPP-J 1.6 §4.2.3)."""
