"""The OCPP-J wire, the same for every OCPP version (OCPP-J 1.6; OCPP 2.0.1 part 4).

:mod:`.frames` parses and builds CALL / CALLRESULT / CALLERROR; :mod:`.rpc` runs one connection
(one receive greenlet, pending calls by message id, every call ending in exactly one request
event); :mod:`.errors` has one class per OCPP-J error code plus the engine's own failures;
:mod:`.transport` opens the WebSocket under security profiles 0-3; :mod:`.schemas` validates
payloads against a version's official JSON schemas; :mod:`.handlers` maps actions to handler
methods; :mod:`.sink` is where outcomes go (Locust's request event, or a recorder);
:mod:`.version` is all the wire needs to know of a version; :mod:`.arrival` reads the kernel's
receive timestamps; :mod:`.pacing` wakes timed waits at their due time, not on the loop's tick.
Nothing here imports a version package or Locust.
"""
