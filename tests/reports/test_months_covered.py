"""'Months covered' lists the months loaded (raw_readings partitions), each run of consecutive months:
the report said 2026-12 for a month that was only in a file, and hid the gap between history and live."""

from datetime import date

import duckdb

from assets.reports.data_confidence import DataConfidence, month_ranges, months_text


def test_runs_of_consecutive_months_with_the_gap_shown():
    months = [
        date(2011, 12, 1),
        date(2012, 1, 1),
        date(2013, 12, 1),
        date(2014, 1, 1),
        date(2014, 2, 1),
        date(2026, 10, 1),
        date(2026, 11, 1),
    ]
    ranges = month_ranges(months)
    assert ranges == [("2011-12", "2012-01"), ("2013-12", "2014-02"), ("2026-10", "2026-11")]
    data = DataConfidence(
        "src", False, "2011-12", "2026-11", "", {}, None, month_ranges=[*ranges, ("2027-01", "2027-01")]
    )
    assert months_text(data) == "2011-12 to 2012-01, 2013-12 to 2014-02, 2026-10 to 2026-11, 2027-01"


def test_the_funnel_reads_loaded_months_not_the_file_index():
    """A file reaching into the current month (2026-12) indexes it; only loaded months count."""
    import assets.reports.data_confidence as dc
    from assets.common.sql import load_sql

    con = duckdb.connect()
    for ddl in (
        "CREATE SCHEMA ingest",
        "CREATE SCHEMA features",
        "CREATE SCHEMA model",
        "CREATE TABLE ingest.raw_readings (household_id VARCHAR, reading_month DATE)",
        "INSERT INTO ingest.raw_readings VALUES ('a', '2026-10-01'), ('a', '2026-11-01')",
        "CREATE TABLE ingest.source_file_index (source_file VARCHAR, first_month DATE, last_month DATE)",
        "INSERT INTO ingest.source_file_index VALUES ('live.csv', '2026-10-01', '2026-12-01')",
        "CREATE TABLE features.household_features (household_id VARCHAR)",
        "CREATE TABLE model.segment_assignments (household_id VARCHAR, response_measured BOOLEAN)",
        "CREATE TABLE ingest.households (household_id VARCHAR, tariff_group VARCHAR)",
        "CREATE TABLE features.treatment_features (household_id VARCHAR, responder BOOLEAN, high_did_pct DOUBLE)",
    ):
        con.execute(ddl)
    row = con.sql(load_sql(dc.__file__, "household_funnel")).fetchall()[0]
    assert (row[-2], row[-1]) == (date(2026, 10, 1), date(2026, 11, 1))
