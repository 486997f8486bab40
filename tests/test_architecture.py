"""The import rules of docs/ARCHITECTURE.md, as import-linter contracts ([tool.importlinter] in
pyproject.toml): a broken contract fails here with import-linter's report (the offending import
chain)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
CONTRACTS = ("layers", "dagster-at-the-edges", "no-cycles")


def test_every_rule_is_a_contract():
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
    assert sorted(c["id"] for c in config["contracts"]) == sorted(CONTRACTS)


@pytest.mark.parametrize("contract", CONTRACTS)
def test_import_contract_is_kept(contract: str):
    proc = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--contract", contract],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, f"import contract {contract!r} broken:\n{proc.stdout}{proc.stderr}"
