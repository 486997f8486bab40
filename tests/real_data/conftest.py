"""The real LCL sample, every asset materialized once per session through Dagster (read in place)."""

from pathlib import Path

import dagster as dg
import duckdb
import pytest

from assets.common.resources import MeterSource, ReportsDir, Warehouse
from pipelines.definitions import defs
from pipelines.engines import DuckDBEngine
from pipelines.run_plan import materialize_in_order

REAL_RANGE = {"dagster/asset_partition_range_start": "2011-12-01", "dagster/asset_partition_range_end": "2014-02-01"}


@pytest.fixture(scope="session")
def real_warehouse(lcl_sample: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("real") / "warehouse.duckdb"
    definitions = defs()
    resources = {
        "warehouse": Warehouse(database=str(path)),
        "source": MeterSource(source_dir=str(lcl_sample)),
        "reports": ReportsDir(path=str(path.parent / "reports")),
        "engine": DuckDBEngine(),
    }
    instance = dg.DagsterInstance.ephemeral(tempdir=str(path.parent / "dagster_home"))
    first, last = REAL_RANGE["dagster/asset_partition_range_start"], REAL_RANGE["dagster/asset_partition_range_end"]
    for result in materialize_in_order(definitions, resources, instance, first, last):
        assert result.success
    return path


@pytest.fixture
def real_con(real_warehouse: Path):
    con = duckdb.connect(str(real_warehouse), read_only=True)
    yield con
    con.close()
