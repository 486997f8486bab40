"""The clean stage on Spark: the same stage SQL and VEE predicates, transpiled, over the Parquet lake.

``clean_readings`` defines the stages (``STAGES``, ``sql/stage_*.sql`` assembled with the rule
predicates of ``vee_rules.py``) and what each stored table receives (``OUTPUTS``); this module only
runs them on a SparkSession (:class:`assets.common.spark.SparkSql`) instead of a DuckDB connection,
and writes each month with a partition overwrite instead of DELETE + INSERT. No rule is restated.

The lake holds ``ingest.raw_readings`` (written by the Spark ingest, ``assets/ingest/spark_ingest.py``;
tests and the engine bench can still copy it from a DuckDB warehouse with :func:`export_raw_from_duckdb`)
and the small ``ingest.source_file_index``; clean
writes ``clean.clean_readings``, ``clean.quarantined_readings``, ``clean.household_month_coverage``
and ``clean.source_file_balance``, each partitioned by ``reading_month``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from assets.clean.clean_readings import (
    BALANCE_TABLE,
    COVERAGE_TABLE,
    OUTPUTS,
    STAGES,
    TEMP_TABLES,
    CleanResult,
    _summarise,
    month_parameters,
    refuse_if_nothing_remains,
)
from assets.clean.vee_rules import VeeSettings
from assets.common.months import add_months, months_in
from assets.common.spark import (
    PARTITION_COLUMN,
    LakeTable,
    SparkSql,
    check_schema,
    ensure_lake_table,
    overwrite_partitions,
    registered_here,
)
from assets.ingest.raw_ingest import INDEX_TABLE, RAW_TABLE
from assets.ingest.schemas.raw_readings import RawReadings

if TYPE_CHECKING:
    import duckdb
    from pyspark.sql import SparkSession

INPUT_TABLES = (LakeTable(RAW_TABLE, RawReadings),)
OUTPUT_TABLES = tuple(LakeTable(table, model) for table, model, _ in OUTPUTS)


def ensure_tables(spark: SparkSession, lake: str | Path) -> None:
    from assets.ingest.spark_ingest import ensure_index_table

    for table in (*INPUT_TABLES, *OUTPUT_TABLES):
        ensure_lake_table(spark, lake, table)
    ensure_index_table(spark, lake)  # the source-file index the Spark ingest writes (file balance)


def export_raw_from_duckdb(
    con: duckdb.DuckDBPyConnection, spark: SparkSession, lake: str | Path, start: date, end: date
) -> int:
    """Bridge until ingest writes the lake itself: copy the window's ``ingest.raw_readings`` and the
    source-file index from the DuckDB warehouse into a local lake (each month's folder replaced by a
    rename). Returns the rows copied."""
    import pyarrow.parquet as pq

    from assets.common.spark import table_location
    from assets.common.sql import qualified_name

    if "://" in str(lake):
        raise ValueError(
            f"the DuckDB bridge writes a local lake only, not {lake}: ingest on Spark writes object storage"
        )
    ensure_tables(spark, lake)
    raw_location = Path(table_location(lake, RAW_TABLE))
    rows = 0
    for month in months_in(start, end):  # one month at a time: memory bounded by one month
        data = con.sql(
            f"SELECT * EXCLUDE (reading_month) FROM {qualified_name(RAW_TABLE)} WHERE reading_month = $m",
            params={"m": month},
        ).to_arrow_table()
        _replace_folder(
            raw_location / f"{PARTITION_COLUMN}={month.isoformat()}",
            lambda d, t=data: pq.write_table(t, d / "part-0.parquet"),
        )
        rows += data.num_rows
    index = con.sql(f"SELECT * FROM {qualified_name(INDEX_TABLE)}").to_arrow_table()
    index_location = Path(table_location(lake, INDEX_TABLE))
    _replace_folder(index_location, lambda d: pq.write_table(index, d / "part-0.parquet"))
    if not registered_here(spark, INDEX_TABLE, str(index_location)):
        spark.catalog.createTable(INDEX_TABLE, path=str(index_location), source="parquet")
    spark.catalog.recoverPartitions(RAW_TABLE)  # the session catalog learns the months written
    for table in (RAW_TABLE, INDEX_TABLE):
        spark.catalog.refreshTable(table)
    return rows


def _replace_folder(folder: Path, write) -> None:
    """Write a folder beside ``folder`` (hidden from Spark by its leading dot), then swap it in."""
    import shutil

    staging = folder.with_name("." + folder.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    write(staging)
    shutil.rmtree(folder, ignore_errors=True)
    staging.rename(folder)


def clean_window_spark(
    spark: SparkSession,
    lake: str | Path,
    start: date,
    end: date,
    settings: VeeSettings | None = None,
    months_per_pass: int | None = None,
) -> CleanResult:
    """Replace the clean, quarantine, coverage and file-balance months ``start <= m < end`` in the lake.

    The months go through the stages together, ``months_per_pass`` at a time (default: the whole
    window in one pass), not month by month as on DuckDB (where one month bounds the memory): Spark
    is out of core, and each pass costs a fixed number of jobs however many months it holds. The
    stage SQL is month-correct over several months: duplicates are keyed by household and half
    hour (one month each), F01's quartiles and coverage are grouped by month, a gap across a month
    boundary inside the pass is bridged by the actual rows on both sides (the same points the
    month-by-month anchors give), and the anchors come from the months either side of the pass.
    The staged rows are checked against the table models' columns and types, then each table's
    months are overwritten.
    """
    settings = settings or VeeSettings()
    ensure_tables(spark, lake)
    runner = SparkSql(spark)
    if months_per_pass is not None and months_per_pass < 1:
        raise ValueError(f"months_per_pass must be at least 1, not {months_per_pass}")
    months = months_in(start, end)
    step = months_per_pass or max(len(months), 1)
    for i in range(0, len(months), step):
        batch = months[i : i + step]
        params = month_parameters(batch[0], add_months(batch[-1], 1), settings)
        try:
            for stage in STAGES:
                stage(runner, params)
            for table, model, rows in OUTPUTS:
                check_schema(runner.sql(rows), model, table)
            # Coverage is the batch's commit marker: emptied first, written last. A crash between the
            # table writes leaves months with new readings and no coverage, which the aggregates' check
            # (aggregate_reads.aggregates_usable: coverage against the aggregates' counts) and the blocking
            # conservation check see, instead of old coverage beside new readings matching old aggregates.
            coverage = next(o for o in OUTPUTS if o[0] == COVERAGE_TABLE)
            overwrite_partitions(runner, COVERAGE_TABLE, f"SELECT * FROM ({coverage[2]}) WHERE false", batch)
            for table, _, rows in [o for o in OUTPUTS if o is not coverage] + [coverage]:
                overwrite_partitions(runner, table, rows, batch)
        finally:
            runner.drop_temp(*TEMP_TABLES)
    result = _summarise(runner, {"start": start, "end": end})
    refuse_if_nothing_remains(runner, result, start, end)
    return result


__all__ = ["BALANCE_TABLE", "clean_window_spark", "ensure_tables", "export_raw_from_duckdb"]
