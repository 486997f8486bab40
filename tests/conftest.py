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


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """Work around a shutdown leak in the duckdb 2.0 bindings (not in our code).

    ``duckdb/__init__.py`` installs the Python relation methods (``duckdb._relation.CONNECTION_METHODS``)
    as attributes of the nanobind type ``_duckdb.DuckDBPyConnection``. That forms the cycle type ->
    function -> ``duckdb._relation`` globals -> type, which interpreter finalization sometimes fails to
    free, depending only on object layout (adding an unused annotated function to a conftest flips it).
    nanobind then prints "leaked N instances" (the ``_duckdb._sqltypes`` constants) at exit. At this
    point no connection is open and every reference to duckdb objects is accounted for; breaking the
    cycle here, after the last test and the last of pytest's own hooks, lets finalization free it.
    """
    import _duckdb
    import duckdb._relation

    for name in duckdb._relation.CONNECTION_METHODS:
        if name in vars(_duckdb.DuckDBPyConnection):
            delattr(_duckdb.DuckDBPyConnection, name)
