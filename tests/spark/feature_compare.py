"""The feature stage on both engines over the same months of a source folder (the comparison itself is
``pipelines.tooling.engine_parity``: one copy for the tests and the parity CLI).

DuckDB side: ingest (or the raw months of a warehouse that ingested the folder), clean, aggregates
and features in one warehouse. Spark side: the same raw months bridged to the lake, clean and
aggregates on Spark, the per-household tables (households, tariff schedule) copied into a second
warehouse that holds no clean table, and the features computed on Spark (``duck.lake_connection``):
the clean readings can only come from the lake.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from assets.clean.clean_readings import clean_window
from assets.clean.spark_clean import clean_window_spark, export_raw_from_duckdb
from assets.common.warehouse import read_table, replace_table
from assets.features.aggregates import build_aggregates
from assets.features.compute import compute_feature_tables
from assets.features.duck import lake_connection
from assets.features.settings import FeatureSettings
from assets.features.spark_aggregates import build_aggregates_spark
from assets.ingest.raw_ingest import load_raw_readings
from assets.ingest.source_files import discover, of_kind
from pipelines.tooling.engine_bench import DIMENSIONS, load_dimensions
from tests.conftest import copy_raw_window


def features_on_both(
    con: duckdb.DuckDBPyConnection,
    spark,
    lake: Path,
    source: Path,
    start: date,
    end: date,
    settings: FeatureSettings,
    spark_warehouse: Path,
    raw_from: Path | None = None,
) -> tuple[dict[str, pl.DataFrame], dict[str, pl.DataFrame], duckdb.DuckDBPyConnection]:
    """(DuckDB features, Spark features, the Spark side's warehouse) for partition months [start, end).
    ``raw_from``: a warehouse that ingested ``source`` already, whose raw months are copied instead of
    parsing the files again."""
    if raw_from is None:
        load_raw_readings(con, of_kind(discover(source / "readings"), "readings"), start, end)
    else:
        copy_raw_window(con, raw_from, start, end)
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
