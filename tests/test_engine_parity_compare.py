"""The engine-parity comparison itself (``pipelines.tooling.engine_parity``), without Spark: two tiny runs' stores
written by DuckDB (a warehouse, and a "Spark" side of a warehouse plus a hive-partitioned Parquet lake),
so that what counts as equal, and what does not, is pinned in the fast suite. The real comparison of
the two engines is ``tests/spark/test_engine_parity.py``."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines.tooling import engine_parity
from pipelines.tooling.engine_parity import LAKE_FOLDER, WAREHOUSE_FILE

MONTHS = (date(2013, 1, 1), date(2013, 2, 1))
SUMMARY = (
    "CREATE TABLE features.tariff_response_summary (analysis VARCHAR, band VARCHAR, window_kind VARCHAR, "
    "start_bucket VARCHAR, season VARCHAR, method VARCHAR, n_households INTEGER, n_events INTEGER, "
    "effect_kwh DOUBLE, ci_low_kwh DOUBLE, ci_high_kwh DOUBLE, effect_pct DOUBLE, ci_low_pct DOUBLE, "
    "ci_high_pct DOUBLE)",
    "INSERT INTO features.tariff_response_summary VALUES "
    "('treatment', 'High', 'event', 'all', 'all', 'primary', 34, 7, -0.02, -0.03, -0.01, -0.07, -0.13, -0.01), "
    "('treatment', 'Low', 'event', 'all', 'all', 'primary', 34, 9, 0.036, 0.019, 0.057, 0.16, 0.08, 0.26)",
)


def _store(root: Path, lake: bool) -> None:
    """The tables a run stores, a few rows each; with ``lake`` the monthly tables go to Parquet."""
    root.mkdir(parents=True)
    with duckdb.connect(str(root / WAREHOUSE_FILE)) as con:
        for schema in ("ingest", "clean", "features", "model", "reports", "settlement"):
            con.execute(f"CREATE SCHEMA {schema}")
        for table in engine_parity.MONTHLY_TABLES:
            con.execute(
                f"CREATE TABLE {table} AS SELECT 'h' || (i % 3) AS household_id, i * 0.5 AS kwh, "
                "CAST(CASE WHEN i < 5 THEN DATE '2013-01-01' ELSE DATE '2013-02-01' END AS DATE) AS reading_month "
                "FROM range(10) AS r(i)"
            )
        con.execute(f"CREATE TABLE {engine_parity.FILE_INDEX} AS SELECT 'a.csv' AS file, 10 AS lines")
        con.execute(
            "CREATE TABLE features.treatment_features AS SELECT 'h' || i AS household_id, i % 2 = 0 AS flag, "
            "CASE WHEN i = 3 THEN NULL ELSE 1.0 / (i + 1) END AS share, 'same' AS note FROM range(6) AS r(i)"
        )
        for statement in SUMMARY:
            con.execute(statement)
        for table in (*engine_parity.MODEL_OUTPUTS, *engine_parity.HALF_HOURLY_PRODUCTS):
            con.execute(f"CREATE TABLE {table} AS SELECT 'h' || i AS household_id, i AS persona FROM range(4) AS r(i)")
        if lake:
            for table in (*engine_parity.MONTHLY_TABLES, engine_parity.FILE_INDEX):
                schema, name = table.split(".")
                folder = root / LAKE_FOLDER / schema / name
                folder.mkdir(parents=True)
                if table == engine_parity.FILE_INDEX:
                    con.execute(f"COPY {table} TO '{folder / 'part-0.parquet'}' (FORMAT parquet)")
                else:
                    con.execute(f"COPY {table} TO '{folder}' (FORMAT parquet, PARTITION_BY (reading_month))")
                con.execute(f"DROP TABLE {table}")


@pytest.fixture
def runs(tmp_path: Path) -> tuple[Path, Path]:
    _store(tmp_path / "duckdb", lake=False)
    _store(tmp_path / "spark", lake=True)
    return tmp_path / "duckdb", tmp_path / "spark"


def _compare(runs: tuple[Path, Path]) -> dict:
    return engine_parity.compare_runs(*runs, *MONTHS)


def _spark_sql(runs: tuple[Path, Path], sql: str) -> None:
    with duckdb.connect(str(runs[1] / WAREHOUSE_FILE)) as con:
        con.execute(sql)


def test_identical_stores_are_equal(runs):
    report = _compare(runs)
    assert report["equal"], report["differences"]
    clean = report["monthly"]["clean.clean_readings"]
    assert clean["rows"] == [10, 10] and clean["per_month"] == {"2013-01-01": [5, 5], "2013-02-01": [5, 5]}
    assert report["features"]["features.treatment_features"]["spark_from"] == "warehouse"
    assert report["population_effects"]["duckdb"][0]["band"] == "High"


def test_rounding_inside_the_tolerance_is_equal_and_reported(runs):
    _spark_sql(runs, "UPDATE features.treatment_features SET share = share * (1 + 1e-12) WHERE household_id = 'h1'")
    report = _compare(runs)
    assert report["equal"], report["differences"]
    outcome = report["features"]["features.treatment_features"]
    assert 5e-13 < outcome["max_rel_diff"] < 2e-12 and outcome["max_tolerance_used"] < 0.01, outcome


@pytest.mark.parametrize(
    ("sql", "column"),
    [
        ("UPDATE features.treatment_features SET share = share * (1 + 1e-8) WHERE household_id = 'h1'", "share"),
        ("UPDATE features.treatment_features SET share = 'NaN' WHERE household_id = 'h1'", "share"),
        ("UPDATE features.treatment_features SET share = 0.25 WHERE household_id = 'h3'", "share"),  # NULL vs value
    ],
)
def test_a_value_outside_the_tolerance_differs(runs, sql, column):
    _spark_sql(runs, sql)
    report = _compare(runs)
    assert not report["equal"]
    outcome = report["features"]["features.treatment_features"]
    assert outcome["out_of_tolerance"] == {column: 1}, outcome


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE features.treatment_features SET flag = NOT flag WHERE household_id = 'h1'",  # a flag flipped
        "UPDATE features.treatment_features SET note = 'other' WHERE household_id = 'h1'",  # a text differs
        "DELETE FROM features.treatment_features WHERE household_id = 'h1'",  # a household missing
    ],
)
def test_keys_and_flags_are_compared_exactly(runs, sql):
    _spark_sql(runs, sql)
    report = _compare(runs)
    outcome = report["features"]["features.treatment_features"]
    assert not report["equal"] and (outcome["only_left"] or outcome["only_right"]), outcome


def test_population_effects_and_a_missing_month_differ(runs):
    _spark_sql(runs, "UPDATE features.tariff_response_summary SET ci_low_pct = ci_low_pct + 1e-6 WHERE band = 'Low'")
    shutil.rmtree(runs[1] / LAKE_FOLDER / "clean" / "clean_readings" / "reading_month=2013-02-01")
    report = _compare(runs)
    assert report["monthly"]["clean.clean_readings"]["months_differing"] == ["2013-02-01"]
    assert report["monthly"]["clean.quarantined_readings"]["months_differing"] == []
    assert any("population" in d for d in report["differences"])
    assert not report["equal"]


def test_model_differences_are_reported_not_a_parity_failure(runs):
    _spark_sql(runs, "UPDATE model.segment_assignments SET persona = 9 WHERE household_id = 'h0'")
    report = _compare(runs)
    assert report["equal"] and not report["model"]["model.segment_assignments"]["equal"]
