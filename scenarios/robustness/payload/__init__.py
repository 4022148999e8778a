"""Payload cases: a CALL against its official OCPP 1.6 JSON schema (required, type, enum, maxLength,
additionalProperties, date-time), answered with the OCPP-J 1.6 §4.2.3 error codes."""
