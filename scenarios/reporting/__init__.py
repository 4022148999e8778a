"""Report writers: JUnit XML, JSON and a self-contained HTML matrix."""

from __future__ import annotations

from scenarios.reporting.htmlreport import write_html
from scenarios.reporting.jsonreport import run_json, write_json
from scenarios.reporting.junit import write_junit
from scenarios.results import RunResult

__all__ = ["run_json", "write_html", "write_json", "write_junit", "write_reports"]


def write_reports(run: RunResult, *, junit: str | None, json: str | None, html: str | None) -> None:
    """Write each report asked for (a path); raises ``OSError`` when one cannot be written."""
    if junit:
        write_junit(run, junit)
    if json:
        write_json(run, json)
    if html:
        write_html(run, html)
