"""The web UI in a real browser: a fleet with the web UI, opened in headless Chromium, a run started
from the form with options that are not the defaults, and the Charge points tab's chart and table
filled by it. Marked ``browser``; skipped, with the reason, where no Chromium is installed
(``.ci/run`` installs the distribution's package when it can)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from benchmarks.browser import Browser, BrowserError, BrowserUnavailable
from tests.test_fleet_cli import LOCUST, LOCUSTFILE
from tests.test_secrets import free_port, get, wait_for

pytestmark = pytest.mark.browser

SET_FIELD = """(function (name, value) {
  var field = document.querySelector('form [name="' + name + '"]');
  var setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
  setter.call(field, value);  // as typing does: React's own listeners see the change
  field.dispatchEvent(new Event('input', {bubbles: true}));
  field.dispatchEvent(new Event('change', {bubbles: true}));
  return field.value;
})(%s, %s)"""
FRAME = "document.getElementById('vocpp-charge-points')"
FRAME_DOC = f"({FRAME} && {FRAME}.contentDocument)"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    try:
        chromium = Browser(width=1400, height=1000)
    except BrowserUnavailable as exc:
        pytest.skip(f"no headless Chromium: {exc}")
    try:
        yield chromium
    finally:
        chromium.close()


def _set(browser: Browser, name: str, value: str) -> None:
    assert browser.eval(SET_FIELD % (json.dumps(name), json.dumps(value))) == value, name


def test_a_run_from_the_form_fills_the_charge_points_view(browser: Browser, tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOCUST_")}
    log = tmp_path / "locust.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [*LOCUST, "-f", LOCUSTFILE, "--web-host", "127.0.0.1", "--web-port", str(port)],
            cwd=tmp_path,
            env={**env, "PYTHONUNBUFFERED": "1"},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    seen: dict[str, Any] = {}
    try:
        wait_for(base + "/")
        browser.goto(base + "/")
        browser.wait_for("document.querySelector('form [name=userCount]') !== null", what="the start form")
        # the form: grouped, readable labels (our script), in the order a user thinks of them
        groups = browser.wait_for(
            "Array.from(document.querySelectorAll('[data-vocpp-group]')).map(e => e.dataset.vocppGroup)",
            what="the form's group titles",
        )
        seen["groups"] = groups
        seen["p95 label"] = browser.eval(
            "document.querySelector('form [name=maxP95]').closest('.MuiFormControl-root').querySelector('label')"
            ".textContent"
        )
        for name, value in {
            "userCount": "6",
            "spawnRate": "6",
            "cpIdTemplate": "BROWSER-{n:03d}",  # not the default: the table must show these ids
            "connectors": "2",
            "idleDuration": "1-2",
            "sessionDuration": "2-3",
        }.items():
            _set(browser, name, value)
        browser.eval("document.querySelector('form button[type=submit]').click()")
        browser.wait_for(
            "(function () { var tab = Array.from(document.querySelectorAll('[role=tab]'))"
            ".find(t => t.textContent.trim() === 'Charge points'); if (tab) tab.click(); return !!tab; })()",
            what="the run to start (its tabs)",
        )
        browser.wait_for(f"{FRAME_DOC} && {FRAME_DOC}.getElementById('cp-table') !== null", what="the view in the tab")
        seen["ids"] = browser.wait_for(
            f"(function () {{ var rows = {FRAME_DOC}.querySelectorAll('#cp-table tbody tr');"
            " var ids = Array.from(rows).map(r => r.dataset.id);"
            " return ids.length === 6 ? ids : null; })()",
            what="six rows in the table",
        )
        seen["points"] = browser.wait_for(
            f"(function () {{ var lines = {FRAME_DOC}.querySelectorAll("
            "'#chart-states polyline[data-series=booted], #chart-states polyline[data-series=charging]');"
            " var most = Math.max(0, ...Array.from(lines).map(l => +l.dataset.points));"
            " return most >= 4 ? most : null; })()",
            timeout=30,
            what="the chart of states to fill",
        )
        # sorted by calls ok, descending, from a click on the column's title
        browser.eval(f"{FRAME_DOC}.querySelector('#cp-table th[data-sort=calls_ok]').click()")
        browser.eval(f"{FRAME_DOC}.querySelector('#cp-table th[data-sort=calls_ok]').click()")
        seen["sorted"] = browser.wait_for(
            f"(function () {{ var cells = {FRAME_DOC}.querySelectorAll('#cp-table tbody tr td:nth-child(5)');"
            " var n = Array.from(cells).map(c => +c.textContent.replace(/,/g, ''));"
            " var ok = n.length === 6 && n.every((v, i) => i === 0 || n[i - 1] >= v);"
            f" return ok && {FRAME_DOC}.querySelector('th.sorted.desc[data-sort=calls_ok]') ? n : null; }})()",
            what="the table sorted by calls ok",
        )
        browser.screenshot(tmp_path / "charge-points.png")
    except BrowserError:
        browser.screenshot(tmp_path / "failed.png")
        raise
    finally:
        try:
            get(base + "/stop", b"")
        except OSError:
            pass
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    output = log.read_text()
    assert seen["groups"][:6] == ["CSMS connection", "Charge points", "Sessions and timing", "Charger behaviour",
                                  "Load shapes", "CI gates and reports"], seen["groups"]  # fmt: skip
    assert seen["p95 label"] == "p95 limits (ms)"
    assert sorted(seen["ids"]) == [f"BROWSER-{n:03d}" for n in range(1, 7)], seen["ids"]
    assert "fleet: 2 connector(s) per charge point, ids BROWSER-{n:03d}" in output, output[-3000:]
    assert "--connectors 2 (was 1)" in output
    assert "Traceback" not in output, output[-3000:]
