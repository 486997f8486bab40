"""Engine parity on the real sample through ``pipelines.tooling.engine_parity`` (what a team runs before switching
engines): the whole graph once on each engine, in this process (the ``engine`` resource bound to
``DuckDBEngine``, then ``SparkEngine``; the assets are the same), over two months of the real sample,
then everything they stored compared. The Spark run is the whole-graph-on-Spark proof too (ingest, clean and aggregates
on Spark into the lake, features on Spark over it, model, reports with the kW profiles on Spark).

Two months because the Spark run costs minutes on a 2-core runner (the DuckDB run costs seconds): a
baseline month (December 2012: the 19 households that span 2012 and 2013) and a trial month (January
2013: all 219 households, High and Low events). The whole sample is run by hand (docs/SCALING.md,
"Equality on the real sample")."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.tooling import engine_parity
from pipelines.tooling.engine_parity import window_config
from tests.spark.conftest import require_spark

pytestmark = [pytest.mark.spark, pytest.mark.slow, pytest.mark.real_data]

FIRST, LAST = "2012-12-01", "2013-01-01"


def _parity(lcl_sample: Path, work: Path, out: Path, engines: str) -> tuple[int, dict]:
    code = engine_parity.main(
        [
            *("--source", str(lcl_sample), "--first", FIRST, "--last", LAST),
            *("--work", str(work), "--out", str(out), "--engines", engines),
            *("--config", json.dumps(window_config(FIRST, LAST))),
        ]
    )
    return code, json.loads(out.read_text(encoding="utf-8"))


@pytest.mark.timeout(3700)
def test_both_engines_store_the_same_data_and_the_comparison_can_fail(lcl_sample: Path, tmp_path: Path):
    require_spark()
    work = tmp_path / "work"
    code, report = _parity(lcl_sample, work, tmp_path / "parity.json", "duckdb,spark")
    assert code == 0 and report["equal"], json.dumps(report.get("comparison", {}).get("differences") or report["runs"])

    # The Spark run covered the whole graph, and the half-hourly tables exist only in the lake.
    spark = report["runs"]["spark"]
    assert spark["success"] and "clean" not in spark["warehouse_schemas"], spark
    assert spark["lake_clean_months"] == ["reading_month=2012-12-01", "reading_month=2013-01-01"], spark
    assert spark["checks"] > 10 and not [c for c in spark["failed_checks"] if c[3] != "AssetCheckSeverity.WARN"], spark
    assert spark["report_has_kw_profiles"], "the persona report's kW profiles (computed on Spark) are missing"
    assert "clean" in report["runs"]["duckdb"]["warehouse_schemas"]

    comparison = report["comparison"]
    monthly = comparison["monthly"]
    assert set(monthly["clean.clean_readings"]["per_month"]) == {FIRST, LAST}
    for table in engine_parity.MONTHLY_TABLES:
        duck_rows, spark_rows = monthly[table]["rows"]
        assert duck_rows == spark_rows and monthly[table]["rows_only_spark"] == 0, (table, monthly[table])
    assert monthly["ingest.raw_readings"]["rows"][0] > 300_000
    features = comparison["features"]
    for table in ("features.treatment_features", "features.household_features", "features.tariff_response_summary"):
        assert features[table]["equal"] and features[table]["left_rows"] > 0, (table, features[table])
        assert features[table]["max_rel_diff"] <= engine_parity.REL_TOL
    # The aggregates were compared where Spark keeps them (the lake), and the schedule aggregates were built
    # with the tariff schedule (pipelines/run_plan.py: it is materialized before them).
    assert spark["lake_aggregate_months"] == ["reading_month=2012-12-01", "reading_month=2013-01-01"], spark
    for table in ("features.household_days", "features.household_event_readings", "features.household_reference_slots"):
        assert features[table]["spark_from"] == "lake" and features[table]["equal"], (table, features[table])
    assert features["features.household_event_readings"]["left_rows"] > 0
    # settlement's windows, read from the lake's clean readings through the engine resource, equal DuckDB's
    windows = features["settlement.event_day_windows"]
    assert windows["equal"] and windows["left_rows"] > 0, windows
    effects = comparison["population_effects"]
    assert {e["band"] for e in effects["duckdb"]} == {"High", "Low"}
    assert engine_parity.same_effects(effects["duckdb"], effects["spark"])
    assert set(comparison["model"]) == set(engine_parity.MODEL_OUTPUTS)

    # It fails when one feature of the Spark run moves by 1e-8 relative (10x the tolerance) ...
    warehouse = work / "spark" / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "UPDATE features.treatment_features SET treatment_coverage = treatment_coverage * (1 + 1e-8) "
            "WHERE household_id = (SELECT min(household_id) FROM features.treatment_features)"
        )
    # ... and when a month of clean readings is missing from the lake.
    shutil.rmtree(work / "spark" / "lake" / "clean" / "clean_readings" / f"reading_month={LAST}")
    code, report = _parity(lcl_sample, work, tmp_path / "perturbed.json", "none")
    assert code == 1 and not report["equal"]
    differences = report["comparison"]["differences"]
    assert any(d.startswith("features.treatment_features") and "treatment_coverage" in d for d in differences)
    assert report["comparison"]["monthly"]["clean.clean_readings"]["months_differing"] == [LAST], differences
    assert len(differences) == 2, differences
