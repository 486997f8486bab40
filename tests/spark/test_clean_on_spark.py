"""The clean stage on Spark (transpiled SQL, Parquet lake) against the same stage on DuckDB."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from assets.clean.clean_readings import CLEAN_TABLE, QUARANTINE_TABLE, clean_window
from assets.clean.spark_clean import clean_window_spark, export_raw_from_duckdb
from assets.common.spark import SparkSql
from assets.common.sql import qualified_name
from assets.ingest.raw_ingest import load_raw_readings
from assets.ingest.source_files import discover, of_kind
from pipelines.tooling.engine_parity import CLEAN_OUTPUTS, counts_by_month, row_differences
from tests.conftest import copy_raw_window
from tests.lcl_files import lds_line, write_lines

pytestmark = pytest.mark.spark

JAN, FEB, MAR = date(2012, 1, 1), date(2012, 2, 1), date(2012, 3, 1)


def stamps(start: str, n: int) -> list[str]:
    t0 = datetime.fromisoformat(start)
    return [(t0 + timedelta(minutes=30 * i)).strftime("%Y-%m-%d %H:%M:%S") for i in range(n)]


def both_engines(
    con: duckdb.DuckDBPyConnection, spark, lake: Path, folder: Path | None, start: date, end: date, raw_from=None
):
    """Ingest ``folder`` on DuckDB (or copy the raw months of the warehouse ``raw_from``), then clean on
    each engine."""
    if raw_from is None:
        load_raw_readings(con, of_kind(discover(folder), "readings"), start, end)
    else:
        copy_raw_window(con, raw_from, start, end)
    duck = clean_window(con, start, end)
    export_raw_from_duckdb(con, spark, lake, start, end)
    on_spark = clean_window_spark(spark, lake, start, end)
    return duck, on_spark


def assert_same_tables(con, lake: Path, start: date, end: date) -> None:
    for table in CLEAN_OUTPUTS:
        duck, spark = counts_by_month(con, lake, table, start, end)
        assert duck == spark, table
        assert row_differences(con, lake, table, start, end) == (0, 0), table


def test_a_temp_table_is_computed_at_once_and_later_plans_scan_it(spark):
    """``CREATE TEMP TABLE`` on Spark: computed when created (as on DuckDB), and a later statement's plan
    scans the rows instead of nesting the query that made them (a lazily cached view kept the query's
    plan, and the clean stages' nested plans ran 181 small jobs for one month's coverage); dropping it
    releases the executors' blocks."""
    runner = SparkSql(spark)
    spark.range(10).createOrReplaceTempView("_src")
    try:
        runner.execute("CREATE OR REPLACE TEMP TABLE _t AS SELECT id % 3 AS g, count(*) AS n FROM _src GROUP BY id % 3")
        blocks = spark.sparkContext._jsc.getPersistentRDDs().size()
        plan = spark.table("_t")._jdf.queryExecution().optimizedPlan().toString()
        assert "Aggregate" not in plan and "Range" not in plan, plan
        assert sorted(runner.execute("SELECT g, n FROM _t").fetchall()) == [(0, 4), (1, 3), (2, 3)]
        runner.drop_temp("_t")
        assert not spark.catalog.tableExists("_t")
        assert spark.sparkContext._jsc.getPersistentRDDs().size() == blocks - 1
    finally:
        spark.catalog.dropTempView("_src")


def test_every_rule_decides_the_same_on_spark(con, spark, lake, tmp_path: Path):
    """Each row rule, V09, D01, F01 and E01 on a hand-made file: same rows, rules, lines and values."""
    ts = stamps("2012-01-10 00:30:00", 40)
    lines = [
        lds_line("MAC1", ts[0], "0.2"),  # 1 ok
        "MAC1,Std,2012-01-10 01:00:00.0000000, 0.2 ,ACORN-B",  # 2 V01 (5 fields)
        lds_line("", ts[2], "0.2"),  # 3 V02
        lds_line("MAC1", "2012-01-1x 02:00:00", "0.2"),  # 4 V03
        lds_line("MAC1", "2012-01-10 02:17:00", "0.2"),  # 5 V04
        lds_line("MAC1", ts[5], "Null"),  # 6 V05
        lds_line("MAC1", ts[6], "abc"),  # 7 V06
        lds_line("MAC1", ts[7], "-0.1"),  # 8 V07
        lds_line("MAC1", ts[8], "30.5"),  # 9 V08
        lds_line("MAC1", ts[9], "0.3"),  # 10 V09 (conflicts with 11)
        lds_line("MAC1", ts[9], "0.4"),  # 11 V09
        lds_line("MAC1", ts[10], "0.2"),  # 12 ok
        lds_line("MAC1", ts[10], "0.2"),  # 13 D01 exact duplicate, collapsed
        lds_line("MAC 1", ts[11], "0.2"),  # 14 V10 (space in the id)
        lds_line("MAC1", ts[12], "inf"),  # 15 V06 (not finite)
        "MAC1,Std,2012-01-10 07:00:00.5000000, 0.2 ,ACORN-B,Affluent",  # 16 V04 (sub-second)
        *(lds_line("MAC1", t, "0.2") for t in ts[13:20]),  # 17.. ok
        lds_line("MAC1", ts[20], "9.0"),  # F01 spike
        *(lds_line("MAC1", t, "0.2") for t in ts[21:30]),  # then a 3-slot gap (E01) before the last ones
        *(lds_line("MAC1", t, "0.4") for t in ts[34:40]),
    ]
    write_lines(tmp_path / "src" / "f.csv", lines, crlf=True)
    duck, on_spark = both_engines(con, spark, lake, tmp_path / "src", JAN, FEB)

    assert on_spark.rows_by_rule == duck.rows_by_rule
    assert {k: v for k, v in duck.rows_by_rule.items() if v} == {
        "V01_MALFORMED_LINE": 1,
        "V02_MISSING_HOUSEHOLD": 1,
        "V03_BAD_TIMESTAMP": 1,
        "V04_OFF_GRID_TIMESTAMP": 2,
        "V05_NULL_VALUE": 1,
        "V06_NON_NUMERIC_VALUE": 2,
        "V07_NEGATIVE_VALUE": 1,
        "V08_IMPLAUSIBLE_VALUE": 1,
        "V09_CONFLICTING_DUPLICATE": 2,
        "V10_INVALID_HOUSEHOLD_ID": 1,
        "D01_EXACT_DUPLICATE": 1,
        "F01_SPIKE": 1,
        "E01_SHORT_GAP_INTERPOLATED": duck.rows_by_rule["E01_SHORT_GAP_INTERPOLATED"],
    }
    assert duck.rows_by_rule["E01_SHORT_GAP_INTERPOLATED"] >= 4  # at least the 4-slot gap
    assert on_spark.conservation == duck.conservation and all(c.holds for c in on_spark.conservation)
    assert on_spark.file_conservation == duck.file_conservation
    assert all(f.holds for f in on_spark.file_conservation)
    assert_same_tables(con, lake, JAN, FEB)
    lines = con.execute(f"SELECT source_line FROM {qualified_name(QUARANTINE_TABLE)} ORDER BY 1").fetchall()
    assert [line for (line,) in lines] == [*range(2, 12), 14, 15, 16]


def test_rerunning_a_month_on_spark_replaces_it(con, spark, lake, tmp_path: Path):
    good = [lds_line("MAC1", t, "0.2") for t in stamps("2012-01-10 00:30:00", 10)]
    write_lines(tmp_path / "src" / "f.csv", [*good, lds_line("MAC1", "2012-01-11 00:00:00", "Null")])
    both_engines(con, spark, lake, tmp_path / "src", JAN, FEB)
    again = clean_window_spark(spark, lake, JAN, FEB)
    assert [(c.raw_rows, c.clean_actual_rows, c.quarantined_rows) for c in again.conservation] == [(11, 10, 1)]
    assert_same_tables(con, lake, JAN, FEB)

    # The file is fixed: the month's quarantine must become empty on both engines, not keep the old row.
    write_lines(tmp_path / "src" / "f.csv", good)
    _, fixed = both_engines(con, spark, lake, tmp_path / "src", JAN, FEB)
    assert [(c.raw_rows, c.clean_actual_rows, c.quarantined_rows) for c in fixed.conservation] == [(10, 10, 0)]
    assert fixed.quarantined_rows == 0
    assert_same_tables(con, lake, JAN, FEB)


def test_a_crash_between_table_writes_leaves_the_months_without_coverage(con, spark, lake, tmp_path: Path, monkeypatch):
    """Coverage is the Spark clean's commit marker (emptied first, written last): a run that dies after
    the new readings are written must not leave the old coverage beside them, which the aggregates'
    check would take for current (it compares coverage with the aggregates' counts)."""
    from assets.clean import spark_clean
    from assets.clean.clean_readings import BALANCE_TABLE, COVERAGE_TABLE

    write_lines(tmp_path / "src" / "f.csv", [lds_line("MAC1", t, "0.2") for t in stamps("2012-01-10 00:30:00", 10)])
    both_engines(con, spark, lake, tmp_path / "src", JAN, FEB)
    runner = SparkSql(spark)
    coverage = f"SELECT count(*) FROM {qualified_name(COVERAGE_TABLE)} WHERE reading_month = $m"
    assert runner.execute(coverage, {"m": JAN}).fetchone() == (1,)
    real_overwrite = spark_clean.overwrite_partitions

    def crash_before_the_balance(sql, table, rows, months):
        if table == BALANCE_TABLE:
            raise RuntimeError("executor lost")
        return real_overwrite(sql, table, rows, months)

    monkeypatch.setattr(spark_clean, "overwrite_partitions", crash_before_the_balance)
    with pytest.raises(RuntimeError, match="executor lost"):
        clean_window_spark(spark, lake, JAN, FEB)
    spark.catalog.refreshTable(COVERAGE_TABLE)
    assert runner.execute(coverage, {"m": JAN}).fetchone() == (0,), "old coverage left beside the new readings"
    monkeypatch.undo()
    clean_window_spark(spark, lake, JAN, FEB)  # the re-run repairs the month
    spark.catalog.refreshTable(COVERAGE_TABLE)
    assert runner.execute(coverage, {"m": JAN}).fetchone() == (1,)
    assert_same_tables(con, lake, JAN, FEB)


def test_a_multi_month_window_in_one_pass_equals_duckdb_month_by_month(con, spark, lake, tmp_path: Path):
    """Spark cleans January and February in one pass, DuckDB month by month: the same rows, with a
    short gap across the month boundary filled on both sides, a conflicting duplicate (V09) and an
    exact one (D01) beside the boundary, and each month's F01 quartiles and coverage its own."""
    before = stamps("2012-01-31 20:00:00", 7)  # half hours ending 20:00 .. 23:00 (a stamp ends its half hour)
    after = stamps("2012-02-01 01:00:00", 8)  # 23:30, 00:00 and 00:30 missing: a 3-slot gap across the boundary
    lines = [
        *(lds_line("MAC1", t, "0.2") for t in before[:-1]),
        lds_line("MAC1", before[-1], "0.6"),  # the last January point: the gap's left end
        lds_line("MAC2", before[-1], "0.3"),  # V09 on 31 January (conflicting copies)
        lds_line("MAC2", before[-1], "0.5"),
        lds_line("MAC1", after[0], "1.0"),  # the gap's right end, in February
        lds_line("MAC1", after[0], "1.0"),  # D01 on 1 February
        *(lds_line("MAC1", t, "0.4") for t in after[1:]),
        *(lds_line("MAC2", t, "0.1") for t in after),
    ]
    write_lines(tmp_path / "src" / "f.csv", lines)
    duck, on_spark = both_engines(con, spark, lake, tmp_path / "src", JAN, MAR)
    assert [c.month for c in on_spark.conservation] == [JAN, FEB]
    assert on_spark.conservation == duck.conservation and all(c.holds for c in on_spark.conservation)
    assert on_spark.file_conservation == duck.file_conservation
    assert on_spark.rows_by_rule == duck.rows_by_rule
    assert (duck.rows_by_rule["V09_CONFLICTING_DUPLICATE"], duck.rows_by_rule["D01_EXACT_DUPLICATE"]) == (2, 1)
    estimated = con.execute(
        f"SELECT reading_month, count(*) FROM {qualified_name(CLEAN_TABLE)} WHERE quality_code = 'E' GROUP BY ALL"
    ).fetchall()
    assert sorted(estimated) == [(JAN, 1), (FEB, 2)]  # 23:30 in January; 00:00 and 00:30 in February
    assert_same_tables(con, lake, JAN, MAR)


@pytest.mark.real_data
def test_real_sample_months_equal_on_both_engines(con, spark, lake, real_warehouse: Path):
    """March 2013 of the real sample (GMT, then BST from the clock change of 2013-03-31): identical
    tables. One month keeps the test short; the engine bench runs more. The raw rows are the session
    real warehouse's (its DuckDB ingest of the 219 files)."""
    start, end = date(2013, 3, 1), date(2013, 4, 1)
    duck, on_spark = both_engines(con, spark, lake, None, start, end, raw_from=real_warehouse)
    assert [c.raw_rows for c in duck.conservation] == [c.raw_rows for c in on_spark.conservation]
    assert sum(c.raw_rows for c in duck.conservation) > 300_000
    assert on_spark.conservation == duck.conservation and all(c.holds for c in on_spark.conservation)
    assert on_spark.file_conservation == duck.file_conservation
    assert (on_spark.clean_rows, on_spark.estimated_rows, on_spark.households) == (
        duck.clean_rows,
        duck.estimated_rows,
        duck.households,
    )
    assert on_spark.mean_coverage == pytest.approx(duck.mean_coverage, rel=1e-12)
    assert_same_tables(con, lake, start, end)
