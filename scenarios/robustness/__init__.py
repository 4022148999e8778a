"""The robustness suite: a hostile charge point, ``volatileocpp robustness``.

Every case sends the CSMS something a well-behaved charge point never would (a broken frame, a
payload against its schema, an unknown action, a field a thousand times too long, a call that
makes no sense, a session out of order, a flood) and judges the answer against the clause it
tests (OCPP-J 1.6 §4.1-§4.2 and its errata, the official OCPP 1.6 JSON schemas, OCPP 1.6
edition 2; OCPP 2.0.1 part 4 where it states a rule 1.6 leaves implicit). After each case a
liveness probe (:mod:`.liveness`) and a control fleet of ordinary charge points (:mod:`.fleet`)
tell whether the CSMS survived and kept serving others.

Cases are one file each under ``scenarios/robustness/<group>/`` (:mod:`.base`); the runner
(:mod:`.runner`) reports through the compliance mode's results, console and reports, and
:mod:`.cli` is ``volatileocpp robustness``. The ``size`` and ``abuse`` groups run only when asked.
"""
