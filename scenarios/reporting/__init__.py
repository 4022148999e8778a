"""Report writers: JUnit XML, JSON and a self-contained HTML matrix."""

from __future__ import annotations

from .htmlreport import write_html
from .jsonreport import run_json, write_json
from .junit import write_junit

__all__ = ["run_json", "write_html", "write_json", "write_junit"]
