"""JUnit XML: one testcase per OCTT case, named by its id; failure, skipped or error elements."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from scenarios.console import wire_line
from scenarios.results import CaseResult, RunResult, Verdict, step_key

#: Verdicts written as a JUnit ``failure`` (its ``type`` names the verdict).
FAILURES = (Verdict.failed, Verdict.crashed, Verdict.degraded)

_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean(text: str) -> str:
    """Text safe for XML 1.0 (CSMS-provided frames may carry control characters)."""
    return _INVALID_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def step_lines(result: CaseResult) -> list[str]:
    """The checks grouped by step, in step order (the document's: a reusable state run before
    the case's steps first; swapped message pairs back in place), each step once and each
    identical check once."""
    by_step: dict[str, list[str]] = {}
    for check in result.checks:
        mark = "ok  " if check.ok else "FAIL"
        line = f"  {mark} {check.message}: expected {check.expected_text}; actual {check.actual}"
        if check.warning:
            line += f" (warning: {check.warning})"
        lines = by_step.setdefault(check.step, [])
        if line not in lines:
            lines.append(line)
    out = []
    for step in sorted(by_step, key=step_key):
        out.append(f"step {step}:")
        out.extend(by_step[step])
    return out


def _details(result: CaseResult) -> str:
    lines = [f"requirement: {result.requirement}"] if result.requirement else []
    if result.verdict == Verdict.non_strict:
        lines.append(f"NON-STRICT: {result.reason}")
    lines += step_lines(result)
    lines.extend(f"note: {note}" for note in result.notes)
    lines.append("wire log:")
    lines.extend("  " + wire_line(entry, limit=2000) for entry in result.wire)
    return clean("\n".join(lines))


def junit_tree(run: RunResult) -> ET.ElementTree:
    suites = ET.Element("testsuites", name=f"volatileocpp {run.kind}")
    suite = ET.SubElement(
        suites,
        "testsuite",
        name="OCTT 1.6 CSMS" if run.kind == "compliance" else run.suite,
        tests=str(len(run.cases)),
        failures=str(sum(run.count(v) for v in FAILURES)),
        errors=str(run.count(Verdict.error)),
        skipped=str(run.count(Verdict.not_applicable)),
        time=f"{run.duration:.3f}",
        timestamp=datetime.fromtimestamp(run.started, UTC).isoformat(timespec="seconds"),
    )
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", name="url", value=clean(run.url))
    ET.SubElement(props, "property", name="cp_id", value=clean(run.cp_id))
    prefix = "octt" if run.kind == "compliance" else run.kind
    for result in run.cases:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"{prefix}.{result.profile.lower()}",
            name=result.case_id,
            time=f"{result.duration:.3f}",
        )
        if result.verdict in FAILURES:
            failure = ET.SubElement(case, "failure", message=clean(result.reason), type=str(result.verdict))
            failure.text = _details(result)
        elif result.verdict == Verdict.error:
            error = ET.SubElement(case, "error", message=clean(result.reason), type="ERROR")
            error.text = clean(result.error_detail) or _details(result)
        elif result.verdict == Verdict.not_applicable:
            ET.SubElement(case, "skipped", message=clean(f"NOT APPLICABLE: {result.reason}"))
        else:
            out = ET.SubElement(case, "system-out")
            out.text = _details(result)
    ET.indent(suites)
    return ET.ElementTree(suites)


def write_junit(run: RunResult, path: str) -> None:
    junit_tree(run).write(path, encoding="utf-8", xml_declaration=True)
