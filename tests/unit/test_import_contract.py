"""The layering holds: the core never reaches up into Qt, the GUI, the CLI or the demo, and no import cycles.

Read from the source with ast (every import, at module level or inside a function), so the contract also
covers the lazy imports that keep Qt out of headless mode.
"""

from __future__ import annotations

import ast

from tests.support.app import ROOT

PACKAGE = ROOT / "polaris_tray"


def module_name(path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {
        name: {m for m in imports_of(path) if m in modules} | _externals(path)
        for name, path in modules.items()
    }


def _externals(path) -> set[str]:
    return {m for m in imports_of(path) if not m.startswith("polaris_tray")}


def offences(deps_by_module: dict[str, set[str]], layer: str, forbidden: tuple[str, ...]) -> dict:
    found = {
        name: sorted(m for m in deps if m.startswith(forbidden))
        for name, deps in deps_by_module.items()
        if name.startswith(layer)
    }
    return {k: v for k, v in found.items() if v}


def cycles_in(deps_by_module: dict[str, set[str]]) -> list[list[str]]:
    # importing a package's submodule runs the package first: not a cycle of ours
    edges = {
        name: {m for m in deps if m.startswith("polaris_tray") and not name.startswith(m + ".")}
        for name, deps in deps_by_module.items()
    }
    cycles: list[list[str]] = []
    state: dict[str, str] = {}

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == "open":
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    return cycles


CORE_FORBIDDEN = ("PySide6", "shiboken6", "polaris_tray.gui", "polaris_tray.cli", "polaris_tray.demo")


def test_the_core_imports_neither_qt_nor_the_shells_nor_the_demo():
    assert offences(graph(), "polaris_tray.core", CORE_FORBIDDEN) == {}


def test_the_gui_never_imports_the_cli():
    assert offences(graph(), "polaris_tray.gui", ("polaris_tray.cli",)) == {}


def test_there_is_no_import_cycle():
    assert cycles_in(graph()) == []


def test_the_checks_catch_what_they_guard_against():
    bad = {
        "polaris_tray.core.a": {"PySide6.QtCore", "polaris_tray.core.b"},
        "polaris_tray.core.b": {"polaris_tray.core.a"},
        "polaris_tray.gui.w": {"polaris_tray.cli"},
    }
    assert offences(bad, "polaris_tray.core", CORE_FORBIDDEN) == {"polaris_tray.core.a": ["PySide6.QtCore"]}
    assert offences(bad, "polaris_tray.gui", ("polaris_tray.cli",)) == {
        "polaris_tray.gui.w": ["polaris_tray.cli"]
    }
    assert cycles_in(bad) == [["polaris_tray.core.a", "polaris_tray.core.b", "polaris_tray.core.a"]]
    here = ROOT / "tests" / "unit" / "test_import_contract.py"
    assert {"ast", "tests.support.app.ROOT"} <= imports_of(here)
