"""The "as of" month of a run without a partition: the latest month of clean data on the run's engine."""

from datetime import date

import duckdb
import pytest

from assets.model.tables import as_of_month


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("CREATE SCHEMA clean; CREATE SCHEMA features")
    # an earlier DuckDB run left clean readings up to January; the aggregates (built from the lake's
    # clean months on Spark) reach March
    con.execute("CREATE TABLE clean.clean_readings AS SELECT DATE '2013-01-01' AS reading_month")
    con.execute("CREATE TABLE features.household_days AS SELECT DATE '2013-03-01' AS reading_month")
    yield con
    con.close()


def test_duckdb_reads_the_clean_table(con, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("METER_ENGINE", raising=False)
    assert as_of_month(None, con) == date(2013, 1, 1)


def test_spark_ignores_a_leftover_warehouse_clean_table(con, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("METER_ENGINE", "spark")
    assert as_of_month(None, con) == date(2013, 3, 1)


def test_a_partition_month_wins(con):
    assert as_of_month(date(2012, 6, 1), con) == date(2012, 6, 1)
