"""No private module of another library is imported, and every import is declared (SPEC §1)."""

from __future__ import annotations

import ast
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
PACKAGE = ROOT / "ticketpulse"
SOURCES = [*sorted(PACKAGE.rglob("*.py")), ROOT / "_ticketpulse_pytest_plugin.py"]


def imported_modules(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_private_module_of_another_library_is_imported(path: Path) -> None:
    private = [
        f"{path.name}:{line}: {module}"
        for line, module in imported_modules(path)
        if module.split(".")[0] not in ("ticketpulse", "_ticketpulse_pytest_plugin")
        and any(part.startswith("_") for part in module.split(".")[1:])
    ]
    assert private == []


def test_every_third_party_import_is_a_declared_dependency_or_extra() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        requirements.extend(extra)
    declared = {
        req.split(">")[0].split("=")[0].split("[")[0].strip().lower() for req in requirements
    }
    # Distribution names whose import names differ.
    import_names = {"fpdf2": "fpdf", "opentelemetry-api": "opentelemetry"}
    declared = {import_names.get(name, name).replace("-", "_") for name in declared}
    undeclared = sorted(
        {
            f"{module.split('.')[0]} ({path.relative_to(ROOT)})"
            for path in SOURCES
            for _, module in imported_modules(path)
            if module.split(".")[0] not in sys.stdlib_module_names
            and module.split(".")[0] not in ("ticketpulse", "_ticketpulse_pytest_plugin", "pytest")
            and module.split(".")[0] not in declared
        }
    )
    assert undeclared == []
