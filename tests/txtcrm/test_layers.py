"""The layers (docs/architecture.md, "Layers") are checked: `make lint` runs import-linter
with pyproject.toml's contracts, and a tree that breaks one fails it.

Each broken tree is a copy of the code with one forbidden import added; the check runs
there with the command `make lint` runs. That this tree passes is what fails CI on a
broken rule (`make test` runs this file).
"""

import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
CONTRACTS = {contract["id"]: contract["name"] for contract in CONFIG["contracts"]}


def lint_imports_command() -> list[str]:
    """The import-linter line of `make lint`, as make would run it."""
    dry_run = subprocess.run(
        ["make", "--dry-run", "--no-print-directory", "lint"],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=30,
    ).stdout  # fmt: skip
    line = next(line for line in dry_run.splitlines() if "lint-imports" in line)
    return shlex.split(line)


def check_layers(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*lint_imports_command(), "--no-cache"],
        cwd=tree, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def python_only(folder: str, names: list[str]) -> set[str]:
    return {
        name
        for name in names
        if name == "__pycache__" or (Path(folder, name).is_file() and not name.endswith(".py"))
    }


@pytest.fixture
def copy_of_the_code(tmp_path) -> Path:
    """The root packages' Python files and the contracts, runnable by `make lint`'s line."""
    for package in CONFIG["root_packages"]:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=python_only)
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    return tmp_path


def test_make_lint_checks_the_layers_and_this_tree_keeps_them():
    result = check_layers(ROOT)

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken." in result.stdout


# For each contract, a package and a module it must not import.
BREAKS = {
    "layers": ("txtcrm", "messaging.models"),  # the base imports no app
    "txtsync-without-django": ("txtsync", "django.db"),
    "sandbox-apart": ("sandbox", "contacts.models"),
    "product-without-sandbox": ("contacts", "sandbox.models"),
}


def test_every_contract_has_a_break_below():
    assert set(BREAKS) == set(CONTRACTS)


@pytest.mark.parametrize("contract", BREAKS)
def test_a_forbidden_import_fails_make_lint_naming_the_contract(copy_of_the_code, contract):
    package, imported = BREAKS[contract]
    (copy_of_the_code / package / "broken.py").write_text(f"import {imported}\n")

    result = check_layers(copy_of_the_code)

    assert result.returncode != 0, result.stdout
    assert f"{CONTRACTS[contract]} BROKEN" in result.stdout
    assert f"Contracts: {len(CONTRACTS) - 1} kept, 1 broken." in result.stdout
    top = imported.partition(".")[0]
    assert f"{package} is not allowed to import {top}" in result.stdout
