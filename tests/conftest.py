"""Shared fixtures: the real LCL sample (read in place), tmp warehouses, the model on a synthetic population."""

from __future__ import annotations

import shutil
import stat
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest

from assets.common.warehouse import WarehouseSettings, connect

REPO = Path(__file__).resolve().parents[1]
LCL_SAMPLE = (REPO.parent / "shared" / "data" / "lcl").resolve()  # TEMP
# The partition months of the session's real-sample warehouse (every month of the sample's tariff trial
# and its baseline year).
REAL_FIRST, REAL_LAST = "2011-12-01", "2014-02-01"


@pytest.fixture(scope="session")
def lcl_sample() -> Path:
    """The real LCL slice beside the repo; tests needing it skip (with the reason) if absent."""
    if not (LCL_SAMPLE / "readings").is_dir():
        pytest.skip(f"real LCL sample not found at {LCL_SAMPLE} (expected ../shared/data/lcl beside the repo)")
    return LCL_SAMPLE


def materialize_graph(root: Path, source: Path, first: str, last: str) -> tuple:
    """Every asset of the code location materialized on ``source`` into ``root/warehouse.duckdb``
    (partition months ``first``..``last``, in the run plan's order, an ephemeral instance in
    ``root/dagster_home``): (definitions, resources, instance, results). Every run must succeed."""
    import dagster as dg

    from assets.common.resources import MeterSource, ReportsDir, Warehouse
    from pipelines.definitions import defs
    from pipelines.engines import DuckDBEngine
    from pipelines.run_plan import materialize_in_order

    definitions = defs()
    resources = {
        "warehouse": Warehouse(database=str(root / "warehouse.duckdb")),
        "source": MeterSource(source_dir=str(source)),
        "reports": ReportsDir(path=str(root / "reports")),
        "engine": DuckDBEngine(),
    }
    instance = dg.DagsterInstance.ephemeral(tempdir=str(root / "dagster_home"))
    results = []
    for result in materialize_in_order(definitions, resources, instance, first, last):
        assert result.success
        results.append(result)
    return definitions, resources, instance, results


@pytest.fixture(scope="session")
def real_warehouse(lcl_sample: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real sample, every asset materialized once per test run through Dagster (REAL_FIRST..REAL_LAST).

    The only DuckDB parse of the sample's 219 files in a run: tests that need its raw rows copy them
    (``copy_raw_window``). Shared, so the file is made read-only: a test that writes copies it first
    (``real_warehouse_copy``; a file copy is cheap)."""
    root = tmp_path_factory.mktemp("real")
    materialize_graph(root, lcl_sample, REAL_FIRST, REAL_LAST)
    path = root / "warehouse.duckdb"
    path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    return path


@pytest.fixture
def real_con(real_warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(real_warehouse), read_only=True)
    yield con
    con.close()


def copy_warehouse(source: Path, target: Path) -> Path:
    """A writable copy of a (read-only) warehouse file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)  # the contents only: the copy is writable
    return target


@pytest.fixture
def real_warehouse_copy(real_warehouse: Path, tmp_path: Path) -> Path:
    """This test's own writable copy of the session's real-sample warehouse."""
    return copy_warehouse(real_warehouse, tmp_path / "real_copy" / "warehouse.duckdb")


def copy_raw_window(con: duckdb.DuckDBPyConnection, warehouse: Path, start: date, end: date) -> None:
    """Put into ``con`` what ``load_raw_readings`` of the same files stores for partition months
    ``[start, end)``: ``warehouse``'s raw rows of those months (line numbers, rules and all) and its
    source-file index, replacing ``con``'s rows of those months. The session's real warehouse ingested
    every month of the 219 files, so this stands for another parse of them."""
    from assets.common.sql import qualified_name
    from assets.common.table_model import create_table_if_missing
    from assets.ingest.raw_ingest import INDEX_TABLE, RAW_TABLE, ensure_index
    from assets.ingest.schemas.raw_readings import RawReadings

    create_table_if_missing(con, RAW_TABLE, RawReadings)
    ensure_index(con)
    raw, index = qualified_name(RAW_TABLE), qualified_name(INDEX_TABLE)
    con.execute("ATTACH ? AS _real (READ_ONLY)", [str(warehouse)])
    try:
        con.execute(f"DELETE FROM {raw} WHERE reading_month >= ? AND reading_month < ?", [start, end])
        con.execute(
            f"INSERT INTO {raw} SELECT * FROM _real.{raw} WHERE reading_month >= ? AND reading_month < ?",
            [start, end],
        )
        con.execute(f"INSERT OR REPLACE INTO {index} SELECT * FROM _real.{index}")
    finally:
        con.execute("DETACH _real")


@pytest.fixture
def warehouse_path(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


@pytest.fixture
def con(warehouse_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    with connect(WarehouseSettings(warehouse_path, memory_limit="1GB")) as connection:
        yield connection


# The clustering model fitted on a synthetic population with planted archetypes
# (tests/model/seg_synthetic.py): shared by tests/model and tests/reports, fitted once per session.


@pytest.fixture(scope="session")
def feature_builder():
    from tests.model.seg_synthetic import make_household_features

    return make_household_features


@pytest.fixture(scope="session")
def fast_settings():
    from assets.model.settings import SegmentationSettings

    return SegmentationSettings(
        random_state=7, kmeans_n_init=4, n_bootstrap=3, load_shape_bootstrap=2, gmm_n_init=1, persona_k_max=7
    )


@pytest.fixture(scope="session")
def synthetic(feature_builder):
    return feature_builder()


@pytest.fixture(scope="session")
def fitted(synthetic, fast_settings):
    from assets.model.cluster_model import assign_segments, fit_cluster_model

    features, _ = synthetic
    model = fit_cluster_model(features, fast_settings)
    return model, assign_segments(features, model)


@pytest.fixture(scope="session")
def outputs(synthetic, fitted):
    """Every asset output on the synthetic population (validated by the api functions)."""
    from assets.model import api
    from assets.reports import api as report_api

    features, _ = synthetic
    model, assignments = fitted
    personas = api.compute_personas(features, assignments, model)
    interventions = report_api.compute_interventions(features, assignments, personas.personas, model)
    dr = report_api.compute_dr_targets(features, assignments, model)
    expectations = report_api.compute_expectations(features, assignments, model)
    return {
        "features": features,
        "model": model,
        "assignments": assignments,
        "personas": personas,
        "interventions": interventions,
        "dr": dr,
        "expectations": expectations,
    }


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
