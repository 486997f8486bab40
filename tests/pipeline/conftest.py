"""The whole asset graph materialized once on generated data with planted ground truth."""

from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from assets.common.resources import MeterSource, ReportsDir, Warehouse
from assets.synthetic.generate import generate
from pipelines.definitions import defs
from pipelines.engines import DuckDBEngine
from pipelines.run_plan import materialize_in_order

HOUSEHOLDS = 300  # the demo default: enough ToU responders per lifestyle segment to split them out


@dataclass
class Pipeline:
    folder: Path
    warehouse: Path
    reports: Path
    truth: pl.DataFrame
    definitions: dg.Definitions
    resources: dict
    instance: dg.DagsterInstance
    results: list

    def con(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.warehouse), read_only=True)

    def materialize(self, keys, **kwargs) -> dg.ExecuteInProcessResult:
        result = dg.materialize(
            self.definitions.assets,
            selection=dg.AssetSelection.assets(*keys),
            resources=self.resources,
            instance=self.instance,
            **kwargs,
        )
        assert result.success
        return result


def build_pipeline(root: Path, settings=None) -> Pipeline:
    """Generate HOUSEHOLDS households (seed 5; ``settings``: the generator's, default its defaults) into
    ``root`` and materialize the whole graph on them in the run plan's order."""
    folder = root / "source"
    generate(folder, households=HOUSEHOLDS, seed=5, **({} if settings is None else {"settings": settings}))
    definitions = defs()
    resources = {
        "warehouse": Warehouse(database=str(root / "warehouse.duckdb")),
        "source": MeterSource(source_dir=str(folder)),
        "reports": ReportsDir(path=str(root / "reports")),
        "engine": DuckDBEngine(),
    }
    instance = dg.DagsterInstance.ephemeral(tempdir=str(root / "dagster_home"))
    run = Pipeline(
        folder,
        root / "warehouse.duckdb",
        root / "reports",
        pl.read_csv(folder / "ground_truth" / "households.csv"),
        definitions,
        resources,
        instance,
        [],
    )
    for result in materialize_in_order(definitions, resources, instance, "2012-01-01", "2014-01-01"):
        assert result.success
        run.results.append(result)
    return run


@pytest.fixture(scope="session")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    return build_pipeline(tmp_path_factory.mktemp("pipeline"))
