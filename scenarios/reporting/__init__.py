"""Report writers: JUnit XML, JSON and a self-contained HTML matrix."""

from __future__ import annotations

from scenarios.reporting.htmlreport import write_html
from scenarios.reporting.jsonreport import run_json, write_json
from scenarios.reporting.junit import write_junit

__all__ = ["run_json", "write_html", "write_json", "write_junit"]
