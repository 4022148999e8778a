"""ruff and mypy are part of the test run, so the README's one test command covers them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_lint_is_clean() -> None:
    result = _run("ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean() -> None:
    result = _run("ruff", "format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_is_clean() -> None:
    result = _run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def test_testbed_never_imports_the_engine() -> None:
    """The testbed is the oracle: it shares no code with ocpp_users/ or scenarios/."""
    offenders = []
    for path in (ROOT / "testbed").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for banned in ("ocpp_users", "scenarios"):
            if f"import {banned}" in text or f"from {banned}" in text:
                offenders.append(f"{path.relative_to(ROOT)} imports {banned}")
    assert offenders == []


def test_mypy_strict_on_the_wire_and_the_station() -> None:
    """The version-neutral wire and the 1.6 station are held to ``mypy --strict``."""
    result = _run("mypy", "--strict", "ocpp_users/ocppj", "ocpp_users/v16")
    assert result.returncode == 0, result.stdout + result.stderr
