"""The fleet's part of the reports: sections in Locust's HTML report, and the ``--cp-csv`` table.

Locust writes its ``--html`` report before the ``quitting`` event; :func:`finish` (called by the
CI gates' ``quitting`` listener, once the checks are made) adds the fleet's sections to that file:
the charge points by state over time with the storms marked on it (inline SVG), what each load
shape measured, the CI gate results, the load fidelity over time and at the end, and the charge
points that failed. The web UI's "Download Report" gets the same sections (:mod:`.webui`).
``--cp-csv FILE`` writes the per-charge-point table (every charge point, as the test ended).
"""

from __future__ import annotations

import logging
from html import escape
from typing import TYPE_CHECKING

from locust.env import Environment

from ocpp_users.fleet.cptable import TITLES, Query, iso
from ocpp_users.fleet.state import STATES

if TYPE_CHECKING:
    from ocpp_users.fleet.gates import Check
    from ocpp_users.fleet.ui import FleetMonitor

log = logging.getLogger("ocpp_users.fleet")

SECTION_ID = "vocpp-fleet"
FAILED_SHOWN = 100
"""Charge points listed in the report's table of failures (all of them are in --cp-csv)."""

_STYLE = f"""
#{SECTION_ID} {{ font: 14px system-ui, sans-serif; color: #222; background: #fff; max-width: 1100px;
  margin: 24px auto; padding: 16px 24px; border-top: 3px solid #1e88e5; }}
#{SECTION_ID} h2 {{ font-size: 20px; margin: 8px 0 12px; }}
#{SECTION_ID} h3 {{ font-size: 16px; margin: 20px 0 8px; }}
#{SECTION_ID} table {{ border-collapse: collapse; margin: 4px 0; }}
#{SECTION_ID} th, #{SECTION_ID} td {{ border-bottom: 1px solid #e0e0e0; padding: 3px 10px; text-align: left;
  vertical-align: top; }}
#{SECTION_ID} .passed {{ color: #2e7d32; font-weight: bold; }}
#{SECTION_ID} .failed {{ color: #c62828; font-weight: bold; }}
#{SECTION_ID} pre {{ background: #f5f5f5; padding: 8px; white-space: pre-wrap; }}
#{SECTION_ID} .badge {{ display: inline-block; padding: 2px 8px; margin: 0 6px 4px 0; border-radius: 10px;
  color: #fff; font-size: 13px; }}
"""


def _table(headers: list[str], rows: list[list[str]], classes: list[str] | None = None) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for index, row in enumerate(rows):
        cls = f' class="{classes[index]}"' if classes and classes[index] else ""
        cells = "".join(f"<td{cls if i == 0 else ''}>{escape(c)}</td>" for i, c in enumerate(row))
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def section_html(environment: Environment, monitor: FleetMonitor, checks: list[Check] | None = None) -> str:
    """The fleet's sections as one HTML ``<section>`` (inline style and SVG; no script)."""
    from ocpp_users.fleet import view
    from ocpp_users.fleet.chart import STATE_COLORS

    counts = monitor.counts() if not monitor.timeline.samples else _last_counts(monitor)
    charts = view.charts(environment, monitor.timeline, wide=1000, narrow=1000)
    parts = [f'<section id="{SECTION_ID}"><style>{_STYLE}</style>', "<h2>Charge points</h2>"]
    badges = "".join(
        f'<span class="badge" style="background:{STATE_COLORS[s]}">{escape(s)} {counts.get(s, 0):,}</span>'
        for s in STATES
    )
    parts.append(f"<p>{counts.get('total', 0):,} charge points as the test ended: {badges}</p>")
    parts.append(charts["states"])
    storms = view.storm_reports(environment)
    if storms:
        parts.append("<h3>Load shape and storms</h3>")
        for report in storms:
            parts.append(f"<pre>{escape(chr(10).join(report['lines']))}</pre>")
    gates = view.gate_checks(environment, checks if checks is not None else getattr(environment, "vocpp_checks", None))
    parts.append("<h3>CI gates</h3>")
    if gates["configured"]:
        rows = [["PASSED" if c["passed"] else "FAILED", c["check"], c["actual"], c["limit"]] for c in gates["checks"]]
        classes = ["passed" if c["passed"] else "failed" for c in gates["checks"]]
        parts.append(_table(["Result", "Check", "Measured", "Limit"], rows, classes))
    else:
        parts.append("<p>No gate was set (--max-failure-ratio, --max-p95, --max-p99, --min-boot-acceptance, ...).</p>")
    parts.append("<h3>Load fidelity</h3>")
    parts.append(charts["fidelity"])
    parts.append(charts["lag"])
    if monitor.fidelity is not None:
        from ocpp_users.fleet.fleet_fidelity import view_rows

        rows = [[what, value] for what, value in view_rows(monitor.fidelity.view())]
        parts.append(_table(["Measure", "Value"], rows))
    parts.append(_failed_html(monitor))
    parts.append("</section>")
    return "".join(parts)


def _last_counts(monitor: FleetMonitor) -> dict[str, int]:
    """The counts of the timeline's last sample (the test's end; the charge points have stopped since)."""
    from ocpp_users.fleet.timeline import FIELDS

    last = monitor.timeline.samples[-1]
    return {name: int(last[FIELDS.index(name)] or 0) for name in ("total", *STATES)}


def _failed_html(monitor: FleetMonitor) -> str:
    table = monitor.rows.query(Query(sort="calls_failed", desc=True, limit=FAILED_SHOWN))
    failing = [row for row in table.rows if row[5] > 0 or row[1] == "failed"]
    title = "<h3>Charge points with failures</h3>"
    if not table.total:
        return title + "<p>No per-charge-point rows (no charge point ran in this process's view).</p>"
    if not failing:
        return title + f"<p>None of the {table.total:,} charge points had a failure.</p>"
    rows = [[row[0], row[1], iso(row[2]), iso(row[3]), str(row[4]), str(row[5]), row[6]] for row in failing]
    note = f"<p>The {len(failing)} with the most failures (all {table.total:,} rows: --cp-csv).</p>"
    return title + note + _table(list(TITLES), rows)


def add_section(html_text: str, section: str) -> str:
    """``html_text`` with ``section`` before its ``</body>`` (replacing an earlier one of ours)."""
    marker = f'<section id="{SECTION_ID}">'
    if marker in html_text:
        start = html_text.rindex(marker)
        end = html_text.find("</section>", start)  # (our section holds no other)
        if end >= 0:
            html_text = html_text[:start] + html_text[end + len("</section>") :]
    end = html_text.rfind("</body>")  # the last one: the page's scripts may spell it in a string
    if end < 0:
        return html_text + section
    return html_text[:end] + section + "\n" + html_text[end:]


def finish(environment: Environment, checks: list[Check] | None) -> None:
    """At the end of the run (master or local runner): ``--cp-csv`` and the ``--html`` sections."""
    from ocpp_users.fleet.cptable import write_csv
    from ocpp_users.fleet.runtime import Fleet

    monitor = Fleet.of(environment).monitor
    monitor.stop_timeline()
    options = environment.parsed_options
    csv_path = str(getattr(options, "cp_csv", "") or "")
    if csv_path:
        try:
            count = write_csv(csv_path, monitor.rows.all_rows())
            log.info("charge points table (%d rows) written to %s", count, csv_path)
        except OSError as exc:
            log.error("cannot write the charge points table %s: %s", csv_path, exc.strerror or exc)
    html_path = str(getattr(options, "html_file", "") or "")
    if html_path:
        _extend_html(html_path, section_html(environment, monitor, checks))


def _extend_html(path: str, section: str) -> None:
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:  # Locust did not write it (e.g. the run ended before it could)
        log.debug("no HTML report at %s to extend: %s", path, exc)
        return
    try:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(add_section(text, section))
    except OSError as exc:
        log.error("cannot add the fleet to the HTML report %s: %s", path, exc.strerror or exc)
