"""Frame cases: OCPP-J 1.6 §4.1-§4.2, the RPC framework's wrapper (JSON, array, message type, id)."""
