"""The "as of" month of a run without a partition: the latest month of clean data on the run's engine."""

from datetime import date

import duckdb
import pytest

from assets.model.tables import as_of_month


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("CREATE SCHEMA clean; CREATE SCHEMA features")
    # an earlier DuckDB run left clean readings up to January, and aggregates up to February
    con.execute("CREATE TABLE clean.clean_readings AS SELECT DATE '2013-01-01' AS reading_month")
    con.execute("CREATE TABLE features.household_days AS SELECT DATE '2013-02-01' AS reading_month")
    yield con
    con.close()


@pytest.fixture
def lake():
    """Stands in for the lake's connection (``duck.lake_connection``: the same ``fetch`` / ``table_exists``):
    the clean months written on Spark reach March."""
    lake = duckdb.connect()
    lake.execute("CREATE SCHEMA clean")
    lake.execute(
        "CREATE TABLE clean.household_month_coverage AS "
        "SELECT * FROM (VALUES (DATE '2013-03-01'), (DATE '2013-02-01')) t(reading_month)"
    )
    yield lake
    lake.close()


def test_duckdb_reads_the_clean_table(con, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("METER_ENGINE", raising=False)
    assert as_of_month(None, con) == date(2013, 1, 1)


def test_spark_reads_the_lake_and_ignores_leftover_warehouse_tables(con, lake):
    assert as_of_month(None, con, lake) == date(2013, 3, 1)  # the lake's months, not the warehouse's leftovers


def test_a_run_without_a_partition_asks_its_engine(con):
    """run_as_of: the engine resource knows where its clean months are (SparkEngine: the lake)."""
    from assets.model.tables import run_as_of

    class LakeEngine:
        def latest_clean_month(self, con):
            return date(2013, 3, 1)

    assert run_as_of(None, con, LakeEngine()) == date(2013, 3, 1)
    assert run_as_of(date(2012, 6, 1), con, LakeEngine()) == date(2012, 6, 1)


def test_a_partition_month_wins(con, lake):
    assert as_of_month(date(2012, 6, 1), con) == date(2012, 6, 1)
    assert as_of_month(date(2012, 6, 1), con, lake) == date(2012, 6, 1)
