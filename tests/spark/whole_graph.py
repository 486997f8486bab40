"""The whole asset graph with ``METER_ENGINE=spark``, in a process of its own (the engine is chosen when
the code location loads): ``python -m tests.spark.whole_graph ROOT SOURCE FIRST_MONTH LAST_MONTH``.

Ingest (Spark's text reader into the lake), clean and the per-household-month aggregates on Spark,
then the unpartitioned layers: features on Spark over the lake, model, reports (the kW profiles on
Spark). The feature windows are the months of the run (the baseline window the first month, the trial
window the rest). Prints one JSON line: what was stored where.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import date
from pathlib import Path


def run(root: Path, source: Path, first: str, last: str) -> dict:
    os.environ["METER_ENGINE"] = "spark"
    os.environ["METER_LAKE"] = str(root / "lake")
    import dagster as dg
    import duckdb

    from assets.common.months import next_month
    from assets.common.resources import MeterSource, ReportsDir, SparkEngine, Warehouse
    from assets.features.assets import FeatureConfig
    from pipelines.definitions import defs

    definitions = defs()
    warehouse = root / "warehouse.duckdb"
    resources = {
        "warehouse": Warehouse(database=str(warehouse)),
        "source": MeterSource(source_dir=str(source)),
        "reports": ReportsDir(path=str(root / "reports")),
        "spark": SparkEngine(master="local[2]", lake=str(root / "lake"), shuffle_partitions=2),
    }
    instance = dg.DagsterInstance.ephemeral(tempdir=str(root / "dagster_home"))
    graph = definitions.resolve_asset_graph()
    keys = graph.get_all_asset_keys()
    partitioned = [k for k in keys if graph.get(k).is_partitioned]
    result = dg.materialize(
        definitions.assets,
        selection=dg.AssetSelection.assets(*partitioned),
        resources=resources,
        instance=instance,
        tags={"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last},
    )
    assert result.success
    start, end = date.fromisoformat(first), next_month(date.fromisoformat(last))
    trial = next_month(start)
    config = FeatureConfig(
        baseline_start=start.isoformat(),
        baseline_end=trial.isoformat(),
        treatment_start=trial.isoformat(),
        treatment_end=end.isoformat(),
        bootstrap_replicates=100,
    )
    result = dg.materialize(
        definitions.assets,
        selection=dg.AssetSelection.assets(*[k for k in keys if not graph.get(k).is_partitioned]),
        resources=resources,
        instance=instance,
        run_config=dg.RunConfig(ops={"features": config}),
    )
    assert result.success
    checks = [
        (str(e.asset_check_key.asset_key.to_user_string()), e.asset_check_key.name, e.passed, str(e.severity))
        for e in result.get_asset_check_evaluations()
    ]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        schemas = sorted(
            {r[0] for r in con.execute("SELECT DISTINCT table_schema FROM information_schema.tables").fetchall()}
        )
        counts = {
            table: con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in (  # the per-household tables (the aggregates live in the lake: lake_aggregate_months)
                "features.baseline_features",
                "features.treatment_features",
                "features.tariff_response_summary",
                "features.household_features",
                "model.segment_assignments",
                "model.personas",
                "reports.dr_targets",
            )
        }
    lake_months = sorted(p.name for p in (root / "lake" / "clean" / "clean_readings").glob("reading_month=*"))
    aggregate_months = sorted(p.name for p in (root / "lake" / "features" / "household_days").glob("reading_month=*"))
    report = (root / "reports" / "persona_report.html").read_text(encoding="utf-8")
    return {
        "warehouse_schemas": schemas,
        "counts": counts,
        "lake_clean_months": lake_months,
        "lake_aggregate_months": aggregate_months,
        "failed_checks": [c for c in checks if not c[2]],
        "checks": len(checks),
        "report_has_kw_profiles": "kW profile:" in report,
    }


if __name__ == "__main__":
    root, source, first, last = sys.argv[1:5]
    print("RESULT " + json.dumps(run(Path(root), Path(source), first, last), default=str))
