"""Shared by the robustness tests: a testbed with Basic auth, options with short waits, a run with
testbed faults switched on right before a case's input and off right after its judgement."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from ocpp_users.embedded import TestbedProcess
from ocpp_users.ocppj.transport import SecurityConfig
from scenarios.results import RunResult
from scenarios.robustness.options import GROUPS, Bounds, RobustOptions
from scenarios.robustness.runner import RobustRunner

PASSWORD = "robust-" + uuid.uuid4().hex[:12]


def options_for(csms: TestbedProcess, **changes: Any) -> RobustOptions:
    """Aimed at ``csms`` (which requires :data:`PASSWORD`), with waits short enough for tests."""
    cp_id = "RB" + uuid.uuid4().hex[:10]
    values: dict[str, Any] = dict(
        url=csms.ws_url.rstrip("/") + "/{cp_id}",
        cp_id=cp_id,
        security=SecurityConfig(profile=1, password=PASSWORD),
        groups=GROUPS,
        answer_timeout=2.0,
        quick=0.15,
        grace=0.05,
        connect_timeout=5.0,
        probe_attempts=1,
        fleet_size=2,
        fleet_interval=0.1,
        fleet_warmup=0.2,
        fleet_cp_id_template="{cp_id}-CTRL-{n}",
        bounds=Bounds(max_p95_ms=1000.0, max_failure_ratio=0.0),
        flood_count=200,
        slow_seconds=0.5,
        idle_sockets=25,
        idle_seconds=0.3,
        size_timeout=20.0,
    )
    values.update(changes)
    return RobustOptions(**values)


def run(
    csms: TestbedProcess,
    faults: dict[str, dict[str, Any]] | None = None,
    config: dict[str, dict[str, Any]] | None = None,
    before: Callable[[str], None] | None = None,
    **changes: Any,
) -> RunResult:
    """Run the selected cases; ``faults[case_id]`` is PUT to /faults right before that case's input
    and removed right after its judgement (before the liveness probe); ``config[case_id]`` likewise
    PATCHes /config (boot_status back to Accepted afterwards)."""
    faults = faults or {}
    config = config or {}

    def switch_on(case_id: str) -> None:
        if case_id in config:
            status, body = csms.api("PATCH", "/config", config[case_id])
            assert status == 200, body
        if case_id in faults:
            status, body = csms.api("PUT", "/faults", faults[case_id])
            assert status == 200, body
        if before is not None:
            before(case_id)

    def switch_off(case_id: str) -> None:
        if case_id in faults:
            csms.api("DELETE", "/faults")
        if case_id in config:
            csms.api("PATCH", "/config", {"boot_status": "Accepted"})

    return RobustRunner(options_for(csms, **changes), before_case=switch_on, after_case=switch_off).run()
