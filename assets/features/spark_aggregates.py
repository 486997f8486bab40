"""The per-household-month aggregates on Spark: the same SQL files, transpiled, over the lake's clean months,
written to the lake.

``aggregates`` defines the aggregates (``OUTPUTS``: ``sql/agg_month_slots.sql``, ``sql/agg_days.sql``,
``sql/agg_event_readings.sql`` and ``sql/agg_reference_slots.sql``, with the local labels of
:func:`aggregates.month_grid` and the month's schedule-derived inputs of :func:`aggregates.month_inputs`,
whose fingerprint row is stored with the month); this module runs those statements on a SparkSession
(:class:`assets.common.spark.SparkSql`, SQLGlot-transpiled, values bound) over ``clean.clean_readings`` in
the Parquet lake and writes each result to the lake table of the same name (partitioned by
``reading_month``, the month replaced by :func:`assets.common.spark.overwrite_partitions`). Nothing per
household x month comes back through the driver: only the row counts of the asset's metadata. No
aggregation is restated.

**The month's fingerprint row is the month's commit marker.** The five lake tables of a month cannot be
replaced in one transaction (one Spark job commits per table: docs/SCALING.md, "Atomicity"), so a month
is rewritten in this order: (1) its row of ``features.aggregate_month_inputs`` is deleted, (2) the four
aggregate tables are replaced, each checked against its table model first (``check_schema``), (3) the
fingerprint row is written. A crash anywhere in (1)-(3) leaves the month without a fingerprint: the
readers (:func:`aggregate_reads.verified_schedule_inputs`, :func:`aggregate_reads.aggregates_usable` on Spark) treat
it as not built and read the readings, and :func:`aggregate_reads.stale_schedule_months` lists it, until a
re-run completes. The fingerprint lives in the lake beside the rows it vouches for (not in the warehouse):
written by the same engine, in the same order, readable by the same connection, and a lake restored or
shared without the warehouse still says which of its months are complete.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from assets.clean.clean_readings import CLEAN_TABLE
from assets.clean.schemas.clean_readings import CleanReadings
from assets.common.engine import EngineError
from assets.common.months import next_month
from assets.common.spark import (
    LakeTable,
    SparkSql,
    check_schema,
    ensure_lake_table,
    overwrite_partitions,
    spark_connection,
    stored_columns,
    table_location,
)
from assets.common.table_model import column_names
from assets.features.aggregates import (
    INPUTS_TABLE,
    OUTPUTS,
    AggregateResult,
    ScheduleInputs,
    aggregate_result,
    month_grid,
    month_inputs,
    schedule_inputs,
)
from assets.features.duck import statement
from assets.features.schemas.aggregates import STORED_TABLES, AggregateMonthInputs

if TYPE_CHECKING:
    import duckdb
    from pyspark.sql import SparkSession

GRID_VIEW = "_agg_grid"  # the month's local labels, a temporary view of the session
SELECTION_VIEW = "_agg_selection"  # the month's selected half hours (event, rebound, preload windows)
DAYS_VIEW = "_agg_classified_days"  # the event-free days of the tariff and placebo schedules, classified
INPUTS_VIEW = "_agg_inputs_row"  # the month's fingerprint row
STAGE_VIEW = "_agg_stage"  # the aggregate being written (a cached temporary view)
AGGREGATE_LAKE_TABLES = tuple(LakeTable(table, model) for table, model in STORED_TABLES)


def ensure_clean_table(spark: SparkSession, lake: str | Path) -> None:
    """``clean.clean_readings`` registered over its lake folder, with the months written so far."""
    ensure_lake_table(spark, lake, LakeTable(CLEAN_TABLE, CleanReadings))
    spark.catalog.recoverPartitions(CLEAN_TABLE)  # months another session (the clean run) wrote
    spark.catalog.refreshTable(CLEAN_TABLE)


def ensure_aggregate_tables(spark: SparkSession, lake: str | Path) -> None:
    """The four aggregate tables and the fingerprint table registered over their lake folders (created
    empty if missing), with the months written so far. A table stored with other columns than its model
    (built under an older aggregate definition) is an error naming its folder: the lake is not deleted
    here, and a write would keep only the stored columns (the readers do not use it meanwhile:
    :func:`aggregate_reads.aggregates_usable` checks the columns)."""
    for table in AGGREGATE_LAKE_TABLES:
        ensure_lake_table(spark, lake, table)
        spark.catalog.recoverPartitions(table.name)
        spark.catalog.refreshTable(table.name)
        if sorted(stored_columns(spark, table.name)) != sorted(column_names(table.model)):
            raise EngineError(
                f"{table.name} in the lake was built with other columns than {table.model.__name__} (an older "
                f"aggregate definition): delete {table_location(lake, table.name)} and re-materialize every month"
            )


def write_month_on_spark(runner: SparkSql, month: date, inputs: ScheduleInputs) -> None:
    """Replace partition ``month`` of every aggregate lake table, the fingerprint row last (see the module
    docstring for why that order makes a crash safe)."""
    spark = runner.spark
    selection, days, row = month_inputs(inputs, month)
    views = {GRID_VIEW: month_grid(month), SELECTION_VIEW: selection, DAYS_VIEW: days, INPUTS_VIEW: row}
    for view, frame in views.items():
        spark.createDataFrame(frame.to_arrow()).createOrReplaceTempView(view)
    tables = {"readings": CLEAN_TABLE, "grid": GRID_VIEW, "selection": SELECTION_VIEW, "days": DAYS_VIEW}
    params = {"lo": month, "hi": next_month(month)}
    try:
        # (1) the month is not usable while it is rewritten: its fingerprint row goes first
        overwrite_partitions(runner, INPUTS_TABLE, f"SELECT * FROM {INPUTS_VIEW} WHERE false", [month])
        # (2) each aggregate computed once (a cached view), its columns and types checked, the month replaced
        for table, model, name in OUTPUTS:
            runner.execute(f"CREATE OR REPLACE TEMP TABLE {STAGE_VIEW} AS {statement(name, **tables)}", params)
            try:
                check_schema(spark.table(STAGE_VIEW), model, table)
                overwrite_partitions(runner, table, f"SELECT * FROM {STAGE_VIEW}", [month])
            finally:
                runner.drop_temp(STAGE_VIEW)
        # (3) the fingerprint row: the month is complete
        check_schema(spark.table(INPUTS_VIEW), AggregateMonthInputs, INPUTS_TABLE)
        overwrite_partitions(runner, INPUTS_TABLE, f"SELECT * FROM {INPUTS_VIEW}", [month])
    finally:
        for view in views:
            spark.catalog.dropTempView(view)


def build_aggregates_spark(
    con: duckdb.DuckDBPyConnection, spark: SparkSession, lake: str | Path, start: date, end: date
) -> AggregateResult:
    """Replace the aggregates of partition months ``start <= m < end`` in the lake, computed on Spark from
    the lake's clean readings, month by month. ``con`` is the warehouse (the tariff schedule: ingest writes
    it there); the counts returned are Spark aggregates over the lake."""
    ensure_clean_table(spark, lake)
    ensure_aggregate_tables(spark, lake)
    inputs = schedule_inputs(con)
    runner = SparkSql(spark)
    month = start.replace(day=1)
    while month < end:
        write_month_on_spark(runner, month, inputs)
        month = next_month(month)
    with spark_connection(spark) as stored:
        return aggregate_result(stored, start, end)


__all__ = [
    "AGGREGATE_LAKE_TABLES",
    "build_aggregates_spark",
    "ensure_aggregate_tables",
    "ensure_clean_table",
    "write_month_on_spark",
]
