"""The rooms of the code and the arrows between them (../shared/design.md): a test fails when an
import goes the wrong way, or when a locustfile grows logic of its own."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: room -> modules it must never import (at any depth, even inside a function)
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "ocpp_users/ocppj": ("ocpp_users.v16", "ocpp_users.fleet", "locust", "scenarios", "testbed"),
    "ocpp_users/v16": ("ocpp_users.fleet", "locust", "scenarios", "testbed"),
    "ocpp_users/fleet": ("scenarios", "testbed"),
    "ocpp_users": ("testbed",),
    "scenarios": ("testbed",),
    "testbed": ("ocpp_users", "scenarios", "locustfiles", "benchmarks"),
}


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import in the file, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            found.extend((node.lineno, f"{module}.{alias.name}") for alias in node.names)
    return found


def _violations(room: str, banned: tuple[str, ...]) -> list[str]:
    out = []
    for path in sorted((ROOT / room).rglob("*.py")):
        for line, module in imported_modules(path):
            for prefix in banned:
                if module == prefix or module.startswith(prefix + "."):
                    out.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return out


@pytest.mark.parametrize("room", sorted(FORBIDDEN))
def test_imports_go_down_only(room: str) -> None:
    assert _violations(room, FORBIDDEN[room]) == []


def test_the_rule_catches_a_wrong_arrow(tmp_path: Path) -> None:
    """The checker itself finds an upward import, a relative one and one inside a function."""
    sample = ROOT / "ocpp_users" / "ocppj" / "_layout_probe.py"
    sample.write_text("def f():\n    from ocpp_users.v16 import actions\n    import locust\n", encoding="utf-8")
    try:
        found = _violations("ocpp_users/ocppj", FORBIDDEN["ocpp_users/ocppj"])
    finally:
        sample.unlink()
    assert any("_layout_probe.py:2 imports ocpp_users.v16" in item for item in found), found
    assert any("_layout_probe.py:3 imports locust" in item for item in found), found


@pytest.mark.parametrize("path", sorted((ROOT / "locustfiles").glob("*.py")), ids=lambda p: p.name)
def test_locustfiles_are_doors(path: Path) -> None:
    """A locustfile holds imports and class declarations (a docstring each) only: no logic."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for index, node in enumerate(tree.body):
        if index == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the module docstring
        if isinstance(node, ast.Import | ast.ImportFrom):
            continue
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["__all__"]:
            continue
        if isinstance(node, ast.ClassDef):
            body = node.body
            assert len(body) == 1 and isinstance(body[0], ast.Expr), f"{path.name}: class {node.name} has a body"
            continue
        raise AssertionError(f"{path.name}:{node.lineno}: {type(node).__name__} is logic; it belongs in a package")
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 30
