"""Shared fixtures: the real LCL sample (read in place), tmp warehouses, tiny LCL-layout files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from assets.common.warehouse import WarehouseSettings, connect

REPO = Path(__file__).resolve().parents[1]
LCL_SAMPLE = REPO.parent / "shared" / "data" / "lcl"


@pytest.fixture(scope="session")
def lcl_sample() -> Path:
    """The real LCL slice beside the repo; tests needing it skip (with the reason) if absent."""
    if not (LCL_SAMPLE / "readings").is_dir():
        pytest.skip(f"real LCL sample not found at {LCL_SAMPLE} (expected ../shared/data/lcl beside the repo)")
    return LCL_SAMPLE


@pytest.fixture
def warehouse_path(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


@pytest.fixture
def con(warehouse_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with connect(WarehouseSettings(warehouse_path, memory_limit="1GB")) as connection:
        yield connection
