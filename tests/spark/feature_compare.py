"""The feature stage on both engines over the same months of a source folder, and the comparison.

DuckDB side: ingest, clean, aggregates and features in one warehouse. Spark side: the same raw months
bridged to the lake, clean and aggregates on Spark, the per-household tables (households, tariff
schedule) copied into a second warehouse that holds no clean table, and the features computed on
Spark (``duck.lake_connection``): the clean readings can only come from the lake.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import polars as pl
from polars.testing import assert_frame_equal

from assets.clean.clean_readings import clean_window
from assets.clean.spark_clean import clean_window_spark, export_raw_from_duckdb
from assets.common.sql import qualified_name
from assets.common.warehouse import read_table, replace_table
from assets.features.aggregates import build_aggregates
from assets.features.compute import compute_feature_tables
from assets.features.duck import lake_connection
from assets.features.settings import FeatureSettings
from assets.features.spark_aggregates import build_aggregates_spark
from assets.ingest.raw_ingest import load_raw_readings
from assets.ingest.source_files import discover, of_kind
from pipelines.engine_bench import DIMENSIONS, load_dimensions

# Feature values are sums, means and ratios of at most a year of half hours that the engines add in
# different orders (hash aggregation, partitions): reordering a double sum of n terms moves it by about
# n * 2^-53 relative (n <= 17,568: < 2e-12), far inside 1e-9. The absolute floor (1e-12, in the unit of
# the column: kWh, %, shares) is for values that are differences of such sums and may cancel to ~0 (a
# DiD of 1e-4 kWh has an absolute rounding error of ~1e-17, but a relative one that grows as it nears 0).
REL_TOL = 1e-9
ABS_TOL = 1e-12


def features_on_both(
    con: duckdb.DuckDBPyConnection,
    spark,
    lake: Path,
    source: Path,
    start: date,
    end: date,
    settings: FeatureSettings,
    spark_warehouse: Path,
) -> tuple[dict[str, pl.DataFrame], dict[str, pl.DataFrame], duckdb.DuckDBPyConnection]:
    """(DuckDB features, Spark features, the Spark side's warehouse) for partition months [start, end)."""
    load_raw_readings(con, of_kind(discover(source / "readings"), "readings"), start, end)
    load_dimensions(con, source)
    clean_window(con, start, end)
    build_aggregates(con, start, end)
    on_duckdb = compute_feature_tables(con, settings)

    export_raw_from_duckdb(con, spark, lake, start, end)
    clean_window_spark(spark, lake, start, end)
    spark_con = duckdb.connect(str(spark_warehouse))
    for table in DIMENSIONS:
        replace_table(spark_con, table, read_table(con, table))
    build_aggregates_spark(spark_con, spark, lake, start, end)
    with lake_connection(spark_con, spark, str(lake)) as on_lake:
        on_spark = compute_feature_tables(on_lake, settings)
    return on_duckdb, on_spark, spark_con


def sort_keys(frame: pl.DataFrame) -> list[str]:
    return [c for c, t in frame.schema.items() if not t.is_float() and not isinstance(t, pl.List)]


def assert_same_features(duck: dict[str, pl.DataFrame], spark: dict[str, pl.DataFrame]) -> dict[str, int]:
    """Every table equal: same columns, types and rows; keys, counts and flags exactly, floats to
    REL_TOL relative (ABS_TOL absolute floor). Returns rows per table."""
    assert duck.keys() == spark.keys()
    rows = {}
    for name in duck:
        a, b = duck[name], spark[name]
        keys = sort_keys(a)
        assert_frame_equal(
            a.sort(keys, nulls_last=True),
            b.sort(keys, nulls_last=True),
            check_exact=False,
            rel_tol=REL_TOL,
            abs_tol=ABS_TOL,
        )
        rows[name] = a.height
    return rows


def population_effects(summary: pl.DataFrame) -> pl.DataFrame:
    """The population High and Low event effects (trial, primary methods, all starts and seasons)."""
    return summary.filter(
        (pl.col("analysis") == "treatment") & (pl.col("window_kind") == "event") & (pl.col("start_bucket") == "all")
        & (pl.col("season") == "all")
    ).sort("band", "method")  # fmt: skip


def stored_months(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    return con.execute(f"SELECT reading_month, count(*) FROM {qualified_name(table)} GROUP BY 1 ORDER BY 1").fetchall()
