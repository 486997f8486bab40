"""The import rules of docs/ARCHITECTURE.md, as import-linter contracts ([tool.importlinter] in
pyproject.toml): a broken contract fails here with import-linter's report (the offending import
chain). And the test layout: tests/<stage> mirrors assets/<stage>."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
CONTRACTS = ("layers", "dagster-at-the-edges", "tooling-outside-the-code-location", "no-cycles")

# Test folders that are not one stage's: they run across stages (the whole graph, the Dagster
# services, the real sample, the Spark engine, bad input). Every other tests/<dir> is named after
# the assets/<stage> it tests.
CROSS_CUTTING = {"pipeline", "ops", "real_data", "spark", "reliability"}


def _folders(root: Path) -> set[str]:
    return {p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))}


def test_tests_mirror_the_stages():
    stages = _folders(REPO / "assets")
    tests = _folders(REPO / "tests")
    assert not CROSS_CUTTING & stages, "a cross-cutting test folder is named after a stage"
    assert tests - stages - CROSS_CUTTING == set(), "test folders that are neither a stage nor cross-cutting"
    assert stages - tests == set(), "stages without a test folder"


def test_every_rule_is_a_contract():
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
    assert sorted(c["id"] for c in config["contracts"]) == sorted(CONTRACTS)


@pytest.fixture(scope="module")
def lint_report() -> str:
    """import-linter's report on every contract: one run (it builds the import graph, external
    packages included), its whitespace normalised (it wraps long contract names)."""
    proc = subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=REPO, capture_output=True, text=True, timeout=120)
    return " ".join((proc.stdout + proc.stderr).split())


@pytest.mark.parametrize("contract", CONTRACTS)
def test_import_contract_is_kept(contract: str, lint_report: str):
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
    (name,) = [c["name"] for c in config["contracts"] if c["id"] == contract]
    assert f"{name} KEPT" in lint_report, f"import contract {contract!r} broken:\n{lint_report}"
