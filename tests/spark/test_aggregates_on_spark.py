"""The per-household-month aggregates on Spark (same SQL, transpiled, over the lake) against DuckDB."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from assets.clean.clean_readings import clean_window
from assets.clean.spark_clean import clean_window_spark, export_raw_from_duckdb
from assets.common.sql import qualified_name
from assets.common.warehouse import replace_table
from assets.features.aggregates import INPUTS_TABLE, OUTPUTS, build_aggregates
from assets.features.spark_aggregates import build_aggregates_spark
from assets.ingest.raw_ingest import load_raw_readings
from assets.ingest.source_files import discover, of_kind
from assets.ingest.tariff_schedule import load_tariff_schedule

pytestmark = pytest.mark.spark

# Sums of at most a month of half hours per group (<= 1,488 terms of 3-decimal kWh values): the two
# engines add them in different orders (hash aggregation, partitions), and a double sum of n terms
# can differ by about n * 2^-53 relative between orders: < 2e-13 here, well inside 1e-9.
REL_TOL = 1e-9


def stored(con: duckdb.DuckDBPyConnection, table: str, start: date, end: date) -> pl.DataFrame:
    frame = con.sql(
        f"SELECT * FROM {qualified_name(table)} WHERE reading_month >= $lo AND reading_month < $hi",
        params={"lo": start, "hi": end},
    ).pl()
    keys = [c for c in frame.columns if frame.schema[c] != pl.Float64]
    return frame.sort(keys)


def assert_same_aggregates(duck_con, spark_con, start: date, end: date) -> dict[str, int]:
    rows = {}
    for table in (*(t for t, _, _ in OUTPUTS), INPUTS_TABLE):
        duck, spark = stored(duck_con, table, start, end), stored(spark_con, table, start, end)
        # integer columns (counts, slots) and keys exactly; float sums to REL_TOL relative
        assert_frame_equal(duck, spark, check_exact=False, rel_tol=REL_TOL, abs_tol=0.0)
        rows[table] = duck.height
    return rows


def aggregates_on_both(
    con, spark, lake: Path, folder: Path, start: date, end: date, tmp_path: Path, schedule: pl.DataFrame
):
    """Ingest on DuckDB; clean and aggregate on each engine (the tariff ``schedule`` in both warehouses:
    the event half hours and event-free days of the schedule-dependent aggregates come from it)."""
    load_raw_readings(con, of_kind(discover(folder), "readings"), start, end)
    replace_table(con, "ingest.tariff_schedule", schedule)
    clean_window(con, start, end)
    build_aggregates(con, start, end)
    export_raw_from_duckdb(con, spark, lake, start, end)
    clean_window_spark(spark, lake, start, end)
    spark_con = duckdb.connect(str(tmp_path / "spark_side.duckdb"))
    replace_table(spark_con, "ingest.tariff_schedule", schedule)
    build_aggregates_spark(spark_con, spark, lake, start, end)
    return spark_con


def real_schedule(folder: Path) -> pl.DataFrame:
    files = of_kind(discover(folder), "tariffs")
    return load_tariff_schedule([(f.path, f.relative) for f in files])[0]


@pytest.mark.real_data
def test_real_sample_aggregates_equal_on_both_engines(con, spark, lake, lcl_sample: Path, tmp_path: Path):
    """October 2012 (baseline year, the placebo's shifted events; BST ends 2012-10-28, a 25-hour local
    day) and March 2013 (trial year, the tariff's events; BST starts 2013-03-31, a 23-hour local day):
    ingest on DuckDB, clean and aggregate on each engine, every aggregate row equal, the event half hours
    and event-free-day week sums included."""
    spark_con = None
    schedule = real_schedule(lcl_sample)
    try:
        # (window, least day rows): the sample's 2012 holds only the 19 households that span both years
        for start, end, least_days in (
            (date(2012, 10, 1), date(2012, 11, 1), 300),
            (date(2013, 3, 1), date(2013, 4, 1), 5_000),
        ):
            spark_con = aggregates_on_both(con, spark, lake, lcl_sample / "readings", start, end, tmp_path, schedule)
            rows = assert_same_aggregates(con, spark_con, start, end)
            assert rows["features.household_days"] > least_days, rows
            assert rows["features.household_event_readings"] > least_days, rows
            assert rows["features.household_reference_slots"] > least_days, rows
            spark_con.close()
            spark_con = None
    finally:
        if spark_con is not None:
            spark_con.close()


def test_aggregates_equal_and_the_comparison_can_fail(con, spark, lake, tmp_path: Path):
    """A hand-made month (two households, a weekend, estimated half hours filled by E01): same rows on
    both engines, a re-run replaces the month, and one perturbed sum or count is caught."""
    from tests.lcl_files import lds_line, write_lines
    from tests.spark.test_clean_on_spark import stamps

    ts = stamps("2012-01-06 22:00:00", 200)  # Friday evening into Monday (weekend labels, 4-hour blocks)
    lines = [
        *(lds_line("MAC1", t, f"{0.1 + (i % 7) * 0.013:.3f}") for i, t in enumerate(ts) if i not in (50, 51)),
        *(lds_line("MAC2", t, f"{0.3 + (i % 5) * 0.021:.3f}") for i, t in enumerate(ts[:120])),
    ]
    write_lines(tmp_path / "src" / "f.csv", lines)
    jan, feb = date(2012, 1, 1), date(2012, 2, 1)
    spark_con = aggregates_on_both(con, spark, lake, tmp_path / "src", jan, feb, tmp_path, _schedule())
    try:
        rows = assert_same_aggregates(con, spark_con, jan, feb)
        assert min(rows.values()) > 0, rows
        build_aggregates_spark(spark_con, spark, lake, jan, feb)  # re-running the month replaces it
        assert assert_same_aggregates(con, spark_con, jan, feb) == rows

        spark_con.execute("UPDATE features.household_days SET kwh = kwh * (1 + 1e-8) WHERE local_date = '2012-01-07'")
        with pytest.raises(AssertionError):
            assert_same_aggregates(con, spark_con, jan, feb)
        build_aggregates_spark(spark_con, spark, lake, jan, feb)
        spark_con.execute(
            "UPDATE features.household_month_slots SET n = n + 1 WHERE slot = 3 AND household_id = 'MAC1'"
        )
        with pytest.raises(AssertionError):
            assert_same_aggregates(con, spark_con, jan, feb)
        build_aggregates_spark(spark_con, spark, lake, jan, feb)
        spark_con.execute(  # a week keyed by the wrong Monday
            "UPDATE features.household_reference_slots SET week_start = week_start + 7 "
            "WHERE week_start = DATE '2012-01-02'"
        )
        with pytest.raises(AssertionError):
            assert_same_aggregates(con, spark_con, jan, feb)
        build_aggregates_spark(spark_con, spark, lake, jan, feb)
        spark_con.execute("DELETE FROM features.household_event_readings WHERE household_id = 'MAC2'")
        with pytest.raises(AssertionError):
            assert_same_aggregates(con, spark_con, jan, feb)
    finally:
        spark_con.close()


def _schedule() -> pl.DataFrame:
    """A 2012-2013 tariff schedule with one High event on Saturday 2013-01-05 17:00-19:00 local: shifted
    364 days back (the placebo) it falls on Saturday 2012-01-07, inside the hand-made readings."""
    from datetime import datetime

    from tests.features.feature_fixtures import Event, WarehouseBuilder

    event = Event(datetime(2013, 1, 5, 17), 4, "High")
    return WarehouseBuilder().schedule(date(2013, 1, 1), date(2014, 1, 1), [event])._schedule_frame()
