"""The Locust fleet: every Locust User one OCPP charge point.

:mod:`.users` (the User), :mod:`.claims` (which connector a session may take), :mod:`.options`
and :mod:`.config` (the fleet's options as tables, and their checked configuration),
:mod:`.runtime` (per-run state and Locust listeners), :mod:`.ui` (the Charge points tab),
:mod:`.fidelity` and :mod:`.fleet_fidelity` (is the fleet sending on time?), :mod:`.gates` and
:mod:`.summary` (CI gates, ``--json-summary``), :mod:`.storms` and :mod:`.shapes` (storms and
load shapes across workers), :mod:`.ids` (unique charge point ids), :mod:`.runners` (which kind of
Locust process this is). :mod:`.plugin` is what ``locustfiles/fleet.py`` imports. Nothing here
imports a compliance case.
"""
