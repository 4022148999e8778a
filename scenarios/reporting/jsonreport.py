"""JSON report: per case the verdict, duration, checks (expected and actual) and the wire log."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from ocpp_users import __version__
from scenarios.results import RunResult

#: Keys of the compliance run alone (the support probe and feature profiles).
COMPLIANCE_ONLY = ("probe_duration_s", "support", "profiles", "require_all")


def run_json(run: RunResult) -> dict[str, Any]:
    data = {
        "tool": "volatileocpp",
        "version": __version__,
        "kind": run.kind,
        "suite": run.suite,
        "url": run.url,
        "cp_id": run.cp_id,
        "started": datetime.fromtimestamp(run.started, UTC).isoformat(timespec="seconds"),
        "duration_s": round(run.duration, 3),
        "setup_duration_s": round(run.setup_duration, 3),
        "probe_duration_s": round(run.probe_duration, 3) if run.probe_duration is not None else None,
        "support": {a: {"state": s.state, "detail": s.detail} for a, s in sorted(run.support.items())},
        "profiles": {"declared": list(run.profiles), "source": run.profiles_source},
        "summary": {str(v): run.count(v) for v in run.verdicts},
        "not_run": run.not_run(),
        "require_all": run.require_all,
        "exit_code": run.exit_code,
        "notes": list(run.notes),
        "invalid_frames": [f.to_json() for f in run.invalid_frames],
        "cases": [c.to_json() for c in run.cases],
        "setup_wire": [w.to_json() for w in run.setup_wire],
        **run.details,
    }
    if run.kind != "compliance":
        for key in COMPLIANCE_ONLY:
            data.pop(key, None)
    return data


def write_json(run: RunResult, path: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(run_json(run), handle, indent=2, ensure_ascii=False)
        handle.write("\n")
