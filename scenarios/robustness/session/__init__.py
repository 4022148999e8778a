"""Session cases: the connection out of order (OCPP 1.6 §4.2 and errata 3.8, OCPP-J 1.6 §3): calls
before BootNotification or while Pending, a second connection, a wrong subprotocol, wrong credentials."""
