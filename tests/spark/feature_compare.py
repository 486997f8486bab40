"""The feature stage on both engines over the same months of a source folder, and the comparison.

DuckDB side: ingest, clean, aggregates and features in one warehouse. Spark side: the same raw months
bridged to the lake, clean and aggregates on Spark, the per-household tables (households, tariff
schedule) copied into a second warehouse that holds no clean table, and the features computed on
Spark (``duck.lake_connection``): the clean readings can only come from the lake.
"""

from __future__ import annotations

from dataclasses import dataclass
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
from assets.features.duck import lake_connection
from assets.features.settings import FeatureSettings
from assets.features.spark_aggregates import build_aggregates_spark
from assets.ingest.raw_ingest import load_raw_readings
from assets.ingest.source_files import discover, of_kind
from assets.ingest.tariff_schedule import load_tariff_schedule

HOUSEHOLDS_TABLE = "ingest.households"
TARIFF_TABLE = "ingest.tariff_schedule"

# Feature values are sums, means and ratios of at most a year of half hours that the engines add in
# different orders (hash aggregation, partitions): reordering a double sum of n terms moves it by about
# n * 2^-53 relative (n <= 17,568: < 2e-12), far inside 1e-9. The absolute floor (1e-12, in the unit of
# the column: kWh, %, shares) is for values that are differences of such sums and may cancel to ~0 (a
# DiD of 1e-4 kWh has an absolute rounding error of ~1e-17, but a relative one that grows as it nears 0).
REL_TOL = 1e-9
ABS_TOL = 1e-12


@dataclass
class FeatureRun:
    tables: dict[str, pl.DataFrame]  # feature asset name -> frame (not yet stored)


def load_dimensions(con: duckdb.DuckDBPyConnection, folder: Path) -> None:
    """Households (from the readings' own register) and the tariff schedule, as the ingest assets do."""
    from assets.ingest import households as hh
    from assets.ingest.raw_ingest import RAW_TABLE

    files = discover(folder)
    registered = [hh.read_household_file(f.path, f.relative) for f in of_kind(files, "households")]
    table, _ = hh.build_households(registered, hh.households_seen_in_readings(con, RAW_TABLE))
    replace_table(con, HOUSEHOLDS_TABLE, table)
    schedule, _ = load_tariff_schedule([(f.path, f.relative) for f in of_kind(files, "tariffs")])
    replace_table(con, TARIFF_TABLE, schedule)


def compute_features(source, settings: FeatureSettings) -> dict[str, pl.DataFrame]:
    """Every feature table, as the features asset computes them (``assets.features.assets``)."""
    from assets.features import compute as feat

    baseline = feat.compute_baseline_features(source, settings)
    treatment = feat.compute_treatment_features(source, settings, baseline)
    summary = feat.compute_tariff_response_summary(source, treatment, settings)
    households = feat.read_households(source, settings)
    household = feat.build_household_features(baseline, treatment, households, settings)
    return {
        "baseline_features": baseline.features,
        "baseline_exclusions": baseline.exclusions,
        "normal_day_lifestyle": treatment.normal_day_lifestyle,
        "treatment_features": treatment.features,
        "treatment_event_responses": treatment.event_responses,
        "comparison_balance": treatment.balance,
        "tariff_response_summary": summary.effects,
        "responder_share_curve": summary.responder_curve,
        "household_features": household.features,
        "household_feature_exclusions": household.exclusions,
    }


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
    on_duckdb = compute_features(con, settings)

    export_raw_from_duckdb(con, spark, lake, start, end)
    clean_window_spark(spark, lake, start, end)
    spark_con = duckdb.connect(str(spark_warehouse))
    for table in (HOUSEHOLDS_TABLE, TARIFF_TABLE):
        replace_table(spark_con, table, read_table(con, table))
    build_aggregates_spark(spark_con, spark, lake, start, end)
    with lake_connection(spark_con, spark, str(lake)) as on_lake:
        on_spark = compute_features(on_lake, settings)
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
