"""Ingest and clean of the real LCL sample: counts from its README, conservation, quirks."""

import pytest

pytestmark = pytest.mark.real_data


def test_every_reading_row_is_ingested(real_con):
    # README: 3,843,156 reading rows in 219 households (538,397 + 3,304,759).
    assert real_con.execute("SELECT count(*) FROM ingest.raw_readings").fetchone()[0] == 3_843_156
    by_layout = dict(real_con.execute("SELECT source_layout, count(*) FROM ingest.raw_readings GROUP BY 1").fetchall())
    assert by_layout == {"lds_6col": 538_397, "kaggle_3col": 3_304_759}
    assert real_con.execute("SELECT count(DISTINCT household_id) FROM clean.clean_readings").fetchone()[0] == 219


def test_exact_midnight_duplicates_collapsed_and_conserved(real_con):
    # README: 368 exact duplicate rows in lds_acorn_6col, all at 00:00; none in the Kaggle layout.
    dups = real_con.execute(
        "SELECT sum(duplicate_rows), count(*) FILTER (WHERE duplicate_rows > 0 AND hour(interval_end_utc) <> 0) "
        "FROM clean.clean_readings"
    ).fetchone()
    assert dups == (368, 0)
    raw, actual, quarantined = real_con.execute(
        """SELECT (SELECT count(*) FROM ingest.raw_readings),
                  (SELECT count(*) FROM clean.clean_readings WHERE quality_code = 'A'),
                  (SELECT count(*) FROM clean.quarantined_readings)"""
    ).fetchone()
    assert raw == actual + quarantined + 368
    assert quarantined == 0  # the sample has no Null, off-grid or negative values


def test_readings_are_utc_48_per_day_on_clock_change_days(real_con):
    # UK clock time would give 46 (spring) / 50 (autumn) stamps; UTC gives at most 48.
    worst = real_con.execute(
        """SELECT max(n) FROM (SELECT household_id, CAST(interval_start_utc AS DATE) d, count(*) n
           FROM clean.clean_readings WHERE quality_code = 'A' GROUP BY ALL)"""
    ).fetchone()[0]
    assert worst == 48


def test_gaps_match_inventory(real_con, lcl_sample):
    import polars as pl

    inv = pl.read_csv(lcl_sample / "inventory.csv").select("LCLid", "missing_half_hours_inside_range")
    cov = real_con.sql(
        """SELECT household_id AS LCLid,
                  CAST(epoch(max(interval_end_utc) - min(interval_end_utc)) / 1800 + 1 AS BIGINT)
                  - count(*) FILTER (WHERE quality_code = 'A') AS missing
           FROM clean.clean_readings GROUP BY 1"""
    ).pl()
    joined = inv.join(cov, on="LCLid")
    assert joined.height == 219
    assert (joined["missing_half_hours_inside_range"] == joined["missing"]).all()


def test_every_file_balances_lines_in_file_to_stored_clean_quarantined_and_collapsed(real_con):
    """Per source file: ingest's line count = raw rows stored = actual + quarantined + collapsed copies."""
    rows = real_con.execute(
        """WITH b AS (SELECT source_file, sum(raw_lines) AS raw, sum(clean_actual_rows) AS a,
                             sum(quarantined_rows) AS q, sum(collapsed_duplicates) AS d
                      FROM clean.source_file_balance GROUP BY ALL),
                r AS (SELECT source_file, count(*) AS n FROM ingest.raw_readings GROUP BY ALL)
           SELECT i.source_file, i.line_rows, r.n, b.raw, b.a + b.q + b.d, b.d
           FROM ingest.source_file_index i LEFT JOIN r USING (source_file) LEFT JOIN b USING (source_file)"""
    ).fetchall()
    assert len(rows) == 219
    assert [r for r in rows if not (r[1] == r[2] == r[3] == r[4])] == []
    assert sum(r[5] for r in rows) == 368
