"""The real LCL sample, every asset materialized once per session through Dagster (read in place)."""

from pathlib import Path

import dagster as dg
import duckdb
import pytest

from assets.common.resources import MeterSource, ReportsDir, Warehouse
from pipelines.definitions import defs
from pipelines.run_plan import run_plan

REAL_RANGE = {"dagster/asset_partition_range_start": "2011-12-01", "dagster/asset_partition_range_end": "2014-02-01"}


@pytest.fixture(scope="session")
def real_warehouse(lcl_sample: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("real") / "warehouse.duckdb"
    definitions = defs()
    resources = {
        "warehouse": Warehouse(database=str(path)),
        "source": MeterSource(source_dir=str(lcl_sample)),
        "reports": ReportsDir(path=str(path.parent / "reports")),
    }
    instance = dg.DagsterInstance.ephemeral(tempdir=str(path.parent / "dagster_home"))
    reference, partitioned, unpartitioned = run_plan(definitions.resolve_asset_graph())
    for selection, tags in ((reference, {}), (partitioned, REAL_RANGE), (unpartitioned, {})):
        result = dg.materialize(
            definitions.assets,
            selection=dg.AssetSelection.assets(*selection),
            resources=resources,
            instance=instance,
            tags=tags,
        )
        assert result.success
    return path


@pytest.fixture
def real_con(real_warehouse: Path):
    con = duckdb.connect(str(real_warehouse), read_only=True)
    yield con
    con.close()
