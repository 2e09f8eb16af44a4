"""Test modules share helpers through tests/support/ only: a test module imported by
another runs its tests twice over or not at all, depending on collection order, and
hides what it shares."""

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def is_test_module(dotted: str) -> bool:
    last = dotted.rsplit(".", 1)[-1]
    return last.startswith("test_") or last == "conftest"


def imported_test_modules(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if is_test_module(alias.name)]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""] + [f"{node.module or ''}.{a.name}" for a in node.names]
            found += [name for name in names if is_test_module(name)]
    return found


def test_no_module_imports_a_test_module_or_a_conftest():
    offenders = {
        str(path.relative_to(TESTS)): names
        for path in sorted(TESTS.rglob("*.py"))
        if (names := imported_test_modules(path))
    }
    assert offenders == {}, "move shared helpers to tests/support/, fixtures to conftest.py"
