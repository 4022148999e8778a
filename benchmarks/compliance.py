"""Wall time of the compliance suite (``volatileocpp scenarios``) against the testbed, and of its probe."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from typing import Any

import orjson

from benchmarks.child import ROOT
from benchmarks.common import Options, log

RUNNER = "import sys; from scenarios.cli import main; sys.exit(main())"


def run_compliance(options: Options) -> dict[str, Any]:
    try:
        import scenarios.cli  # noqa: F401
    except ImportError as exc:
        return {"compliance_suite_s": None, "probe_s": None, "reason": f"compliance runner not importable: {exc}"}
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "compliance.json")
        args = [sys.executable, "-c", RUNNER, "scenarios", "--json", report]
        if options.host:
            args += ["--url", options.host]
        started = time.monotonic()
        try:
            proc = subprocess.run(args, cwd=str(ROOT), capture_output=True, text=True, timeout=300)
        except subprocess.TimeoutExpired:
            return {"compliance_suite_s": None, "probe_s": None, "reason": "did not finish within 300 s"}
        wall = time.monotonic() - started
        if not os.path.exists(report):
            tail = (proc.stdout + proc.stderr).strip().splitlines()[-5:]
            return {
                "compliance_suite_s": None,
                "probe_s": None,
                "reason": f"no JSON report (exit {proc.returncode})",
                "output": tail,
            }
        with open(report, "rb") as fh:
            data = orjson.loads(fh.read())
    result = {
        "compliance_suite_s": data.get("duration_s"),
        "probe_s": data.get("probe_duration_s"),
        "process_wall_s": round(wall, 2),
        "exit_code": proc.returncode,
        "cases": len(data.get("cases", [])),
        "summary": data.get("summary"),
        "target": options.host or "the testbed (started by the runner)",
    }
    log(f"compliance: {result['cases']} cases in {result['compliance_suite_s']} s, probe {result['probe_s']} s")
    return result
