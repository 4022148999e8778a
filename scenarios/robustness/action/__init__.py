"""Action cases: an action the CSMS does not know (NotImplemented) or knows but does not support
(NotSupported), OCPP-J 1.6 §4.2.3."""
