"""The per-household-month aggregates on Spark: the same SQL files, transpiled, over the lake's clean months.

``aggregates`` defines the aggregates (``OUTPUTS``: ``sql/agg_month_slots.sql``, ``sql/agg_days.sql``,
``sql/agg_event_readings.sql`` and ``sql/agg_reference_slots.sql``, with the local labels of
:func:`aggregates.month_grid` and the month's schedule-derived inputs of :func:`aggregates.month_inputs`,
whose fingerprint row is stored with the month); this module runs those statements on a SparkSession
(:class:`assets.common.spark.SparkSql`, SQLGlot-transpiled, values bound) over
``clean.clean_readings`` in the Parquet lake, and brings the compact result (one row per household x
month x slot or local day) back to the DuckDB warehouse via Arrow, where each month is validated with
the same pandera models and replaced in one transaction (:func:`aggregates.replace_month`). No
aggregation is restated.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from assets.clean.clean_readings import CLEAN_TABLE
from assets.clean.schemas.clean_readings import CleanReadings
from assets.common.spark import LakeTable, SparkSql, ensure_lake_table, to_arrow
from assets.common.table_model import create_table_if_missing
from assets.common.warehouse import transaction
from assets.features.aggregates import (
    INPUTS_TABLE,
    OUTPUTS,
    AggregateResult,
    ScheduleInputs,
    _add_month,
    aggregate_result,
    month_grid,
    month_inputs,
    replace_month,
    schedule_inputs,
)
from assets.features.duck import scratch, statement
from assets.features.schemas.aggregates import AggregateMonthInputs

if TYPE_CHECKING:
    import duckdb
    from pyspark.sql import SparkSession

GRID_VIEW = "_agg_grid"  # the month's local labels, a temporary view of the session
SELECTION_VIEW = "_agg_selection"  # the month's selected half hours (event, rebound, preload windows)
DAYS_VIEW = "_agg_classified_days"  # the event-free days of the tariff and placebo schedules, classified


def ensure_clean_table(spark: SparkSession, lake: str | Path) -> None:
    """``clean.clean_readings`` registered over its lake folder, with the months written so far."""
    ensure_lake_table(spark, lake, LakeTable(CLEAN_TABLE, CleanReadings))
    spark.catalog.recoverPartitions(CLEAN_TABLE)  # months another session (the clean run) wrote
    spark.catalog.refreshTable(CLEAN_TABLE)


def month_rows_on_spark(runner: SparkSql, month: date, inputs: ScheduleInputs) -> list[tuple[str, type, pl.DataFrame]]:
    """``(table, model, rows)`` of each aggregate for partition ``month``, computed on Spark, and the month's
    inputs row (its fingerprint, computed in Python as on DuckDB)."""
    spark = runner.spark
    selection, days, row = month_inputs(inputs, month)
    views = {GRID_VIEW: month_grid(month), SELECTION_VIEW: selection, DAYS_VIEW: days}
    for view, frame in views.items():
        spark.createDataFrame(frame.to_arrow()).createOrReplaceTempView(view)
    tables = {"readings": CLEAN_TABLE, "grid": GRID_VIEW, "selection": SELECTION_VIEW, "days": DAYS_VIEW}
    params = {"lo": month, "hi": _add_month(month)}
    try:
        out = []
        for table, model, name in OUTPUTS:
            frame = runner.sql(statement(name, **tables), params)
            rows = pl.from_arrow(to_arrow(frame))
            assert isinstance(rows, pl.DataFrame)
            out.append((table, model, rows))
        out.append((INPUTS_TABLE, AggregateMonthInputs, row))
        return out
    finally:
        for view in views:
            spark.catalog.dropTempView(view)


def build_aggregates_spark(
    con: duckdb.DuckDBPyConnection, spark: SparkSession, lake: str | Path, start: date, end: date
) -> AggregateResult:
    """Replace the aggregates of partition months ``start <= m < end`` in the DuckDB warehouse, computed
    on Spark from the lake's clean readings; one month per transaction, validated before the replace."""
    ensure_clean_table(spark, lake)
    for table, model, _ in OUTPUTS:
        create_table_if_missing(con, table, model)
    create_table_if_missing(con, INPUTS_TABLE, AggregateMonthInputs)
    inputs = schedule_inputs(con)  # the tariff schedule is in the warehouse (ingest writes it there)
    runner = SparkSql(spark)
    month = start.replace(day=1)
    while month < end:
        computed = month_rows_on_spark(runner, month, inputs)  # Spark first: no DuckDB transaction held meanwhile
        with scratch(con) as s, transaction(con):
            staged = [(table, model, s.frame(f"spark_{i}", rows)) for i, (table, model, rows) in enumerate(computed)]
            replace_month(con, month, staged)
        month = _add_month(month)
    return aggregate_result(con, start, end)


def aggregates_on_spark(con: duckdb.DuckDBPyConnection, engine: Any, start: date, end: date) -> AggregateResult:
    """The aggregate asset's Spark path, on the session of ``engine`` (``resources.SparkEngine``)."""
    return build_aggregates_spark(con, engine.session(), engine.lake_root, start, end)


__all__ = ["aggregates_on_spark", "build_aggregates_spark", "ensure_clean_table", "month_rows_on_spark"]
