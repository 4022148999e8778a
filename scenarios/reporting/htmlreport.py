"""A self-contained HTML report: a matrix of cases and verdicts, then each case's checks and wire log.

No external assets; every piece of text (much of it CSMS-provided) goes through ``html.escape``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from scenarios.results import CaseResult, RunResult, Verdict

COLOURS = {
    Verdict.passed: ("#1a7f37", "#dafbe1"),
    Verdict.failed: ("#cf222e", "#ffebe9"),
    Verdict.error: ("#8250df", "#fbefff"),
    Verdict.not_applicable: ("#6e7781", "#f6f8fa"),
    Verdict.non_strict: ("#9a6700", "#fff8c5"),
    Verdict.crashed: ("#ffffff", "#82071e"),
    Verdict.degraded: ("#bc4c00", "#fff1e5"),
}

#: (page title, heading) per kind of run.
TITLES = {
    "compliance": ("OCTT 1.6 CSMS compliance report", "OCTT 1.6 Central System compliance"),
    "robustness": ("OCPP 1.6J CSMS robustness report", "OCPP 1.6J Central System robustness (a hostile charge point)"),
}

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px;color:#1f2328}
h1{font-size:20px;margin:0 0 4px} .meta{color:#59636e;margin-bottom:16px}
.summary span{display:inline-block;margin-right:12px;padding:2px 8px;border-radius:10px;font-weight:600}
.matrix{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:6px;margin:16px 0}
.tile{border-radius:6px;padding:6px 8px;border:1px solid;text-decoration:none;font-size:13px}
.tile b{display:block;font-size:12px} table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border-bottom:1px solid #d0d7de;padding:4px 6px;text-align:left;vertical-align:top}
.v{font-weight:700;white-space:nowrap} pre{background:#f6f8fa;padding:8px;overflow-x:auto;font-size:12px;margin:4px 0}
details{margin:4px 0 12px} .bad{color:#cf222e;font-weight:600} .ok{color:#1a7f37}
"""


def _verdict(verdict: Verdict) -> str:
    fg, bg = COLOURS[verdict]
    return f'<span class="v" style="color:{fg};background:{bg}">{escape(str(verdict))}</span>'


def _tile(result: CaseResult) -> str:
    fg, bg = COLOURS[result.verdict]
    return (
        f'<a class="tile" href="#{escape(result.case_id)}" style="color:{fg};background:{bg};border-color:{fg}" '
        f'title="{escape(result.title)}">{escape(result.case_id)}<b>{escape(str(result.verdict))}</b></a>'
    )


def _case(result: CaseResult) -> str:
    rows = []
    for check in result.checks:
        mark = '<span class="ok">ok</span>' if check.ok else '<span class="bad">FAIL</span>'
        warn = f"<br><i>{escape(check.warning)}</i>" if check.warning else ""
        rows.append(
            f"<tr><td>{mark}</td><td>{escape(check.step)}</td><td>{escape(check.side)}</td>"
            f"<td>{escape(check.message)}</td><td>{escape(check.expected_text)}</td>"
            f"<td>{escape(check.actual)}{warn}</td></tr>"
        )
    checks = (
        "<table><tr><th></th><th>step</th><th>side</th><th>message</th><th>expected</th><th>actual</th></tr>"
        + "".join(rows)
        + "</table>"
        if rows
        else ""
    )
    notes = "".join(f"<li>{escape(n)}</li>" for n in result.notes)
    wire = "\n".join(f"{w.clock} {w.arrow} {w.raw}" for w in result.wire)
    error = f"<pre>{escape(result.error_detail)}</pre>" if result.error_detail else ""
    opened = " open" if result.verdict not in (Verdict.passed, Verdict.not_applicable) else ""
    requirement = f"<blockquote>{escape(result.requirement)}</blockquote>" if result.requirement else ""
    return (
        f'<h3 id="{escape(result.case_id)}">{escape(result.case_id)} {_verdict(result.verdict)}</h3>'
        f"<div>{escape(result.title)} &middot; {'clause' if result.requirement else 'section'} "
        f"{escape(result.section)} &middot; "
        f"{escape(result.profile)} &middot; {result.duration:.2f} s"
        + (f" (clean-up {result.cleanup_duration:.2f} s)" if result.cleanup_duration >= 0.1 else "")
        + "</div>"
        + requirement
        + (f"<p>{escape(result.reason)}</p>" if result.reason else "")
        + (f"<ul>{notes}</ul>" if notes else "")
        + f"<details{opened}><summary>checks and wire log</summary>{checks}{error}"
        f"<pre>{escape(wire) or '(no frames)'}</pre></details>"
    )


def _probe(run: RunResult) -> str:
    """What the support probe found, and the feature profiles the run took as declared."""
    rows = "".join(
        f"<tr><td>{escape(action)}</td><td>{escape(found.state)}</td><td>{escape(found.detail)}</td></tr>"
        for action, found in sorted(run.support.items())
    )
    took = f"{run.probe_duration:.2f} s" if run.probe_duration is not None else "not run"
    took += f"; set-up before it {run.setup_duration:.2f} s"
    source = {"--profiles": "declared with --profiles", "probe": "claimed (from the probe)"}.get(
        run.profiles_source, "taken as claimed (no probe ran)"
    )
    profiles = f"<p>Feature profiles {escape(source)}: {escape(', '.join(run.profiles))}</p>" if run.profiles else ""
    table = (
        f"<table><tr><th>action</th><th>support</th><th>detail</th></tr>{rows}</table>" if rows else "<p>(no probe)</p>"
    )
    return f"<h2>Support probe ({escape(took)})</h2>{profiles}{table}"


def _not_run(run: RunResult) -> str:
    lines = run.not_run()
    if not lines:
        return ""
    items = "".join(f"<li>{escape(line)}</li>" for line in lines)
    return f"<h2>Not run</h2><ul>{items}</ul>"


def render(run: RunResult) -> str:
    title, heading = TITLES.get(run.kind, TITLES["compliance"])
    started = datetime.fromtimestamp(run.started, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    summary = "".join(
        f'<span style="color:{COLOURS[v][0]};background:{COLOURS[v][1]}">{run.count(v)} {escape(str(v))}</span>'
        for v in run.verdicts
    )
    index = "".join(
        f'<tr><td><a href="#{escape(c.case_id)}">{escape(c.case_id)}</a></td><td>{escape(c.section)}</td>'
        f"<td>{escape(c.title)}</td><td>{_verdict(c.verdict)}</td><td>{c.duration:.2f}</td>"
        f"<td>{escape(c.reason)}</td></tr>"
        for c in run.cases
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title>"
        f"<style>{STYLE}</style></head><body>"
        f"<h1>{escape(heading)}</h1>"
        f'<div class="meta">{escape(run.url)} &middot; charge point {escape(run.cp_id)} &middot; {started} '
        f"&middot; {run.duration:.1f} s</div>"
        f'<div class="summary">{summary}</div>'
        + "".join(f"<p>note: {escape(n)}</p>" for n in run.notes)
        + f'<div class="matrix">{"".join(_tile(c) for c in run.cases)}</div>'
        + _not_run(run)
        + (_probe(run) if run.kind == "compliance" else "")
        + f"<h2>Cases</h2><table><tr><th>case</th><th>{'section' if run.kind == 'compliance' else 'clause'}</th>"
        "<th>title</th><th>verdict</th>"
        f"<th>s</th><th>reason</th></tr>{index}</table>" + "".join(_case(c) for c in run.cases) + "</body></html>\n"
    )


def write_html(run: RunResult, path: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(render(run))
