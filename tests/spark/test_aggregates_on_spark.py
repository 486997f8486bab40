"""The per-household-month aggregates on Spark (same SQL, transpiled, over the lake, written to the lake)
against DuckDB's warehouse aggregates; a month's re-run and a crash between its table writes."""

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
from assets.features import aggregate_reads, aggregates, spark_aggregates
from assets.features.aggregates import (
    DAYS_TABLE,
    EVENTS_TABLE,
    INPUTS_TABLE,
    OUTPUTS,
    REFERENCE_TABLE,
    SLOTS_TABLE,
    build_aggregates,
)
from assets.features.duck import lake_connection
from assets.features.lifestyle import lifestyle_aggregates
from assets.features.settings import FeatureSettings
from assets.features.spark_aggregates import build_aggregates_spark
from assets.ingest.raw_ingest import load_raw_readings
from assets.ingest.source_files import discover, of_kind
from assets.ingest.tariff_schedule import load_tariff_schedule
from tests.conftest import copy_raw_window

pytestmark = pytest.mark.spark

# Sums of at most a month of half hours per group (<= 1,488 terms of 3-decimal kWh values): the two
# engines add them in different orders (hash aggregation, partitions), and a double sum of n terms
# can differ by about n * 2^-53 relative between orders: < 2e-13 here, well inside 1e-9.
REL_TOL = 1e-9
STORED = (*(t for t, _, _ in OUTPUTS), INPUTS_TABLE)


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort([c for c in frame.columns if frame.schema[c] != pl.Float64])


def stored(con: duckdb.DuckDBPyConnection, table: str, start: date, end: date) -> pl.DataFrame:
    """The warehouse's rows of ``table`` for partition months [start, end) (DuckDB)."""
    frame = con.sql(
        f"SELECT * FROM {qualified_name(table)} WHERE reading_month >= $lo AND reading_month < $hi",
        params={"lo": start, "hi": end},
    ).pl()
    return _sorted(frame)


def in_lake(spark, table: str, start: date, end: date, columns: list[str]) -> pl.DataFrame:
    """The lake's rows of ``table`` (read through the session catalog) in the warehouse's column order."""
    from pyspark.sql import functions as F

    month = F.col("reading_month")
    frame = pl.from_arrow(spark.table(table).where((month >= F.lit(start)) & (month < F.lit(end))).toArrow())
    assert isinstance(frame, pl.DataFrame)
    return _sorted(frame.select(columns))


def assert_same_aggregates(duck_con, spark, start: date, end: date) -> dict[str, int]:
    """Every aggregate row and fingerprint row of DuckDB's warehouse equal to the lake's Spark wrote."""
    rows = {}
    for table in STORED:
        duck = stored(duck_con, table, start, end)
        lake = in_lake(spark, table, start, end, duck.columns)
        # integer columns (counts, slots) and keys exactly; float sums to REL_TOL relative
        assert_frame_equal(duck, lake, check_exact=False, rel_tol=REL_TOL, abs_tol=0.0)
        rows[table] = duck.height
    return rows


def aggregates_on_both(
    con,
    spark,
    lake: Path,
    folder: Path | None,
    start: date,
    end: date,
    tmp_path: Path,
    schedule: pl.DataFrame,
    raw_from: Path | None = None,
):
    """Ingest on DuckDB (or copy the raw months of the warehouse ``raw_from``); clean and aggregate on each
    engine (the tariff ``schedule`` in both warehouses: the event half hours and event-free days of the
    schedule-dependent aggregates come from it). The Spark side's warehouse holds only the schedule, and
    no aggregate comes back to it."""
    if raw_from is None:
        load_raw_readings(con, of_kind(discover(folder), "readings"), start, end)
    else:
        copy_raw_window(con, raw_from, start, end)
    replace_table(con, "ingest.tariff_schedule", schedule)
    clean_window(con, start, end)
    build_aggregates(con, start, end)
    export_raw_from_duckdb(con, spark, lake, start, end)
    clean_window_spark(spark, lake, start, end)
    spark_con = duckdb.connect(str(tmp_path / "spark_side.duckdb"))
    replace_table(spark_con, "ingest.tariff_schedule", schedule)
    result = build_aggregates_spark(spark_con, spark, lake, start, end)
    assert not spark_con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'features'"
    ).fetchone()[0], "the aggregates stay in the lake: nothing per household x month comes back"
    # the counts the asset reports are the lake's (Spark aggregates), equal to DuckDB's
    assert result == aggregates.aggregate_result(con, start, end)
    return spark_con


def real_schedule(folder: Path) -> pl.DataFrame:
    files = of_kind(discover(folder), "tariffs")
    return load_tariff_schedule([(f.path, f.relative) for f in files])[0]


@pytest.mark.real_data
def test_real_sample_aggregates_equal_on_both_engines(
    con, spark, lake, lcl_sample: Path, real_warehouse: Path, tmp_path: Path
):
    """October 2012 (baseline year, the placebo's shifted events; BST ends 2012-10-28, a 25-hour local
    day) and March 2013 (trial year, the tariff's events; BST starts 2013-03-31, a 23-hour local day):
    the session real warehouse's raw rows (its DuckDB ingest), clean and aggregate on each engine, every
    aggregate row equal, the event half hours and event-free-day week sums included."""
    spark_con = None
    schedule = real_schedule(lcl_sample)
    try:
        # (window, least day rows): the sample's 2012 holds only the 19 households that span both years
        for start, end, least_days in (
            (date(2012, 10, 1), date(2012, 11, 1), 300),
            (date(2013, 3, 1), date(2013, 4, 1), 5_000),
        ):
            spark_con = aggregates_on_both(
                con, spark, lake, None, start, end, tmp_path, schedule, raw_from=real_warehouse
            )
            rows = assert_same_aggregates(con, spark, start, end)
            assert rows[DAYS_TABLE] > least_days, rows
            assert rows[EVENTS_TABLE] > least_days, rows
            assert rows[REFERENCE_TABLE] > least_days, rows
            assert rows[INPUTS_TABLE] == 1, rows
            spark_con.close()
            spark_con = None
    finally:
        if spark_con is not None:
            spark_con.close()


JAN, FEB = date(2012, 1, 1), date(2012, 2, 1)
SETTINGS = FeatureSettings(baseline_start=JAN, baseline_end=FEB, treatment_start=FEB, treatment_end=date(2012, 3, 1))


def _hand_made_month(con, spark, lake, tmp_path: Path) -> duckdb.DuckDBPyConnection:
    """A hand-made month (two households, a weekend, estimated half hours filled by E01) on both engines."""
    from tests.lcl_files import lds_line, write_lines
    from tests.spark.test_clean_on_spark import stamps

    ts = stamps("2012-01-06 22:00:00", 200)  # Friday evening into Monday (weekend labels, 4-hour blocks)
    lines = [
        *(lds_line("MAC1", t, f"{0.1 + (i % 7) * 0.013:.3f}") for i, t in enumerate(ts) if i not in (50, 51)),
        *(lds_line("MAC2", t, f"{0.3 + (i % 5) * 0.021:.3f}") for i, t in enumerate(ts[:120])),
    ]
    write_lines(tmp_path / "src" / "f.csv", lines)
    return aggregates_on_both(con, spark, lake, tmp_path / "src", JAN, FEB, tmp_path, _schedule())


def test_aggregates_equal_a_rerun_replaces_the_month_fingerprint_last(con, spark, lake, tmp_path, monkeypatch):
    """Same rows on both engines; a re-run replaces the month (a stray row is gone, nothing doubles), its
    fingerprint row deleted first and written last; one perturbed sum, count or row is caught."""
    spark_con = _hand_made_month(con, spark, lake, tmp_path)
    try:
        rows = assert_same_aggregates(con, spark, JAN, FEB)
        assert min(rows.values()) > 0, rows

        stray = spark.table(DAYS_TABLE).limit(1).selectExpr("*")  # a row the computation would not give
        stray = stray.withColumn("household_id", stray["household_id"].substr(0, 0))
        stray.write.insertInto(DAYS_TABLE)
        spark.catalog.refreshTable(DAYS_TABLE)
        with pytest.raises(AssertionError):
            assert_same_aggregates(con, spark, JAN, FEB)
        writes = []
        original = spark_aggregates.overwrite_partitions

        def spy(runner, table, rows_sql, months):
            written = runner.sql(rows_sql).count()
            writes.append((table, written))
            return original(runner, table, rows_sql, months)

        monkeypatch.setattr(spark_aggregates, "overwrite_partitions", spy)
        build_aggregates_spark(spark_con, spark, lake, JAN, FEB)  # re-running the month replaces it
        assert assert_same_aggregates(con, spark, JAN, FEB) == rows
        assert [t for t, _ in writes] == [
            INPUTS_TABLE,
            SLOTS_TABLE,
            DAYS_TABLE,
            EVENTS_TABLE,
            REFERENCE_TABLE,
            INPUTS_TABLE,
        ]
        assert writes[0] == (INPUTS_TABLE, 0) and writes[-1] == (INPUTS_TABLE, 1), writes  # emptied first, written last

        # the comparison can fail: the DuckDB side perturbed (then rebuilt) each time
        for perturb in (
            "UPDATE features.household_days SET kwh = kwh * (1 + 1e-8) WHERE local_date = '2012-01-07'",
            "UPDATE features.household_month_slots SET n = n + 1 WHERE slot = 3 AND household_id = 'MAC1'",
            "UPDATE features.household_reference_slots SET week_start = week_start + 7 "
            "WHERE week_start = DATE '2012-01-02'",  # a week keyed by the wrong Monday
            "DELETE FROM features.household_event_readings WHERE household_id = 'MAC2'",
            "UPDATE features.aggregate_month_inputs SET inputs_fingerprint = 'x'",
        ):
            con.execute(perturb)
            with pytest.raises(AssertionError):
                assert_same_aggregates(con, spark, JAN, FEB)
            build_aggregates(con, JAN, FEB)
        assert assert_same_aggregates(con, spark, JAN, FEB) == rows
    finally:
        spark_con.close()


def test_a_crash_between_table_writes_sends_the_readers_to_the_readings(con, spark, lake, tmp_path, monkeypatch):
    """A re-run that dies after the month's event readings were replaced (before its reference slots and
    fingerprint): the month has no fingerprint, so it is reported stale and the features read the
    readings, and say so; a completed re-run restores the aggregates, with the same values."""
    spark_con = _hand_made_month(con, spark, lake, tmp_path)
    original = spark_aggregates.overwrite_partitions

    def crash_at_reference(runner, table, rows_sql, months):
        if table == REFERENCE_TABLE:
            raise RuntimeError("executor lost")
        return original(runner, table, rows_sql, months)

    try:
        with lake_connection(spark_con, spark, str(lake)) as on_lake, aggregate_reads.recorded_reads() as reads:
            assert aggregate_reads.stale_schedule_months(on_lake) == []
            assert aggregate_reads.aggregates_usable(on_lake, SETTINGS)
            whole = lifestyle_aggregates(on_lake, SETTINGS, "baseline")
        complete = aggregate_reads.read_sources(reads, "spark")
        assert complete["lifestyle slot sums (baseline 2012-01-01..2012-02-01)"] == [SLOTS_TABLE], complete
        assert complete["lifestyle daily sums (baseline 2012-01-01..2012-02-01)"] == [DAYS_TABLE], complete

        monkeypatch.setattr(spark_aggregates, "overwrite_partitions", crash_at_reference)
        with pytest.raises(RuntimeError, match="executor lost"):
            build_aggregates_spark(spark_con, spark, lake, JAN, FEB)
        monkeypatch.setattr(spark_aggregates, "overwrite_partitions", original)

        with lake_connection(spark_con, spark, str(lake)) as on_lake, aggregate_reads.recorded_reads() as reads:
            assert aggregate_reads.stale_schedule_months(on_lake) == [JAN]  # reported stale (metadata, run log)
            assert not aggregate_reads.aggregates_usable(
                on_lake, SETTINGS
            )  # the counts still match: the marker decides
            assert aggregate_reads.verified_schedule_inputs(on_lake, SETTINGS) is None
            fallback = lifestyle_aggregates(on_lake, SETTINGS, "baseline")
        crashed = aggregate_reads.read_sources(reads, "spark")
        assert crashed["lifestyle slot sums (baseline 2012-01-01..2012-02-01)"] == [SETTINGS.readings_table], crashed
        assert crashed["lifestyle daily sums (baseline 2012-01-01..2012-02-01)"] == [SETTINGS.readings_table], crashed
        for a, b in zip(whole, fallback, strict=True):  # the readings give what the aggregates gave
            keys = [c for c in a.columns if not a.schema[c].is_float()]
            assert_frame_equal(
                a.sort(keys), b.select(a.columns).sort(keys), check_exact=False, rel_tol=REL_TOL, check_dtypes=False
            )

        build_aggregates_spark(spark_con, spark, lake, JAN, FEB)  # the re-run completes
        assert_same_aggregates(con, spark, JAN, FEB)
        with lake_connection(spark_con, spark, str(lake)) as on_lake:
            assert aggregate_reads.stale_schedule_months(on_lake) == []
            assert aggregate_reads.aggregates_usable(on_lake, SETTINGS)
    finally:
        spark_con.close()


def _schedule() -> pl.DataFrame:
    """A 2012-2013 tariff schedule with one High event on Saturday 2013-01-05 17:00-19:00 local: shifted
    364 days back (the placebo) it falls on Saturday 2012-01-07, inside the hand-made readings."""
    from datetime import datetime

    from tests.features.feature_fixtures import Event, WarehouseBuilder

    event = Event(datetime(2013, 1, 5, 17), 4, "High")
    return WarehouseBuilder().schedule(date(2013, 1, 1), date(2014, 1, 1), [event])._schedule_frame()
