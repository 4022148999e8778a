"""A headless Chromium driven over the DevTools protocol (websocket-client, no other dependency).

Used by the screenshot script (:mod:`benchmarks.screenshot`) and the browser test
(``tests/test_browser.py``)::

    with Browser() as browser:                  # raises BrowserUnavailable when there is no Chromium
        browser.goto("http://127.0.0.1:8089/")
        browser.wait_for("document.querySelector('form') !== null")
        browser.screenshot("page.png")

Chromium is started with a fresh profile in a temporary directory and the flags this machine
needs (no sandbox, no GPU, no QUIC, no background networking); it is looked up as ``chromium``,
``chromium-browser``, ``google-chrome`` or ``google-chrome-stable`` on the PATH, or taken from
``$VOCPP_CHROMIUM``.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

import websocket

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--remote-debugging-port=0",
)


class BrowserUnavailable(RuntimeError):
    """No Chromium to start, or it would not start: the reason says which."""


class BrowserError(RuntimeError):
    """The page did not do what was waited for, or the DevTools protocol answered with an error."""


def find_chromium() -> str | None:
    """The Chromium executable: ``$VOCPP_CHROMIUM``, else the first of :data:`NAMES` on the PATH."""
    given = os.environ.get("VOCPP_CHROMIUM")
    if given:
        return given if os.path.exists(given) else shutil.which(given)
    for name in NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


class Browser:
    """One headless Chromium with one page, driven over the DevTools protocol."""

    def __init__(self, width: int = 1400, height: int = 1000, start_timeout: float = 20.0) -> None:
        executable = find_chromium()
        if executable is None:
            raise BrowserUnavailable(
                "no Chromium found (looked for " + ", ".join(NAMES) + " on the PATH and $VOCPP_CHROMIUM); "
                "on Debian or Ubuntu: apt-get install chromium"
            )
        self.profile = tempfile.mkdtemp(prefix="vocpp-chromium-")
        self.process = subprocess.Popen(
            [executable, *FLAGS, f"--user-data-dir={self.profile}", f"--window-size={width},{height}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._ids = itertools.count(1)
        try:
            port = self._devtools_port(start_timeout)
            self.ws = websocket.create_connection(self._page_socket(port), timeout=30, suppress_origin=True)
            self.ws.settimeout(30)
            self.call("Page.enable")
            self.call("Runtime.enable")
            self.call(
                "Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False
            )
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------ start-up

    def _devtools_port(self, timeout: float) -> int:
        marker = Path(self.profile) / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BrowserUnavailable(f"Chromium exited at start-up with code {self.process.returncode}")
            try:
                first = marker.read_text().splitlines()[0]
                return int(first)
            except (OSError, IndexError, ValueError):
                time.sleep(0.05)
        raise BrowserUnavailable(f"Chromium did not open its DevTools port within {timeout:g} s")

    @staticmethod
    def _page_socket(port: int) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as answer:
            targets = json.loads(answer.read())
        for target in targets:
            if target.get("type") == "page" and target.get("webSocketDebuggerUrl"):
                return str(target["webSocketDebuggerUrl"])
        raise BrowserUnavailable("Chromium has no page to drive")

    # ------------------------------------------------------------ the protocol

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one DevTools command and return its result (events in between are skipped)."""
        call_id = next(self._ids)
        self.ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") != call_id:
                continue
            if "error" in message:
                raise BrowserError(f"{method}: {message['error'].get('message')}")
            result: dict[str, Any] = message.get("result") or {}
            return result

    def eval(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (a promise is awaited)."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = (details.get("exception") or {}).get("description") or details.get("text")
            raise BrowserError(f"JavaScript error: {text}")
        return (result.get("result") or {}).get("value")

    def goto(self, url: str, timeout: float = 20.0) -> None:
        """Open ``url`` and wait until its document has loaded."""
        self.call("Page.navigate", url=url)
        time.sleep(0.1)
        self.wait_for("document.readyState === 'complete'", timeout, what=f"{url} to load")

    def wait_for(self, expression: str, timeout: float = 20.0, what: str | None = None) -> Any:
        """Evaluate ``expression`` until it is truthy; return its value, or raise :class:`BrowserError`."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while True:
            try:
                last = self.eval(expression)
            except BrowserError as exc:
                last = str(exc)
            else:
                if last:
                    return last
            if time.monotonic() >= deadline:
                raise BrowserError(f"waited {timeout:g} s for {what or expression}; last value: {last!r}")
            time.sleep(0.2)

    def screenshot(self, path: str | Path, full_page: bool = False) -> Path:
        """A PNG of the page (the viewport, or the whole page with ``full_page``)."""
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            metrics = self.call("Page.getLayoutMetrics")
            size = metrics.get("cssContentSize") or metrics.get("contentSize") or {}
            params["clip"] = {
                "x": 0,
                "y": 0,
                "width": size.get("width", 1400),
                "height": size.get("height", 1000),
                "scale": 1,
            }
            params["captureBeyondViewport"] = True
        data = self.call("Page.captureScreenshot", **params)["data"]
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(base64.b64decode(data))
        return target

    # ------------------------------------------------------------ the end

    def close(self) -> None:
        ws = getattr(self, "ws", None)
        if ws is not None:
            try:
                ws.close()
            except Exception:
                pass
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()
