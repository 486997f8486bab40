"""Per-household-month aggregates (assets/features/aggregates.py): features computed from them equal
features computed from the readings, stale aggregates are never used, and a month's rebuild replaces
that month's rows only."""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import polars as pl
import pytest
from feature_fixtures import local_frame, mark_estimated, noisy_trial_builder, trial_settings

from assets.features import aggregates
from assets.features import compute as feat

FIRST, END = date(2011, 12, 1), date(2014, 2, 1)  # partition months holding every fixture reading


def _coverage(con: duckdb.DuckDBPyConnection) -> None:
    """clean.household_month_coverage as clean writes it (actual and estimated half hours per month)."""
    con.execute(
        """CREATE OR REPLACE TABLE clean.household_month_coverage AS
           SELECT household_id, reading_month,
                  CAST(count(*) FILTER (WHERE quality_code = 'A') AS INTEGER) AS actual_half_hours,
                  CAST(count(*) FILTER (WHERE quality_code = 'E') AS INTEGER) AS estimated_half_hours
           FROM clean.clean_readings GROUP BY ALL"""
    )


def _warehouse() -> duckdb.DuckDBPyConnection:
    b, _ = noisy_trial_builder(n_controls=12, n_null_treated=3)
    # one household across the spring DST change and BST months (local months straddle partitions)
    rng = np.random.default_rng(5)
    b.household("D1", "Std")
    for window in ((date(2012, 1, 1), date(2012, 6, 1)), (date(2013, 1, 1), date(2013, 3, 10))):
        noise = pl.Series(rng.uniform(0.1, 0.5, local_frame(*window).height))
        b.add_readings("D1", *window, lambda noise=noise: pl.lit(noise))
    b.household("X1", "ToU").add_readings("X1", date(2012, 2, 1), date(2012, 2, 6), 0.2)  # below coverage
    con = b.build()
    mark_estimated(con, "S01", 1, 0.25)  # estimated readings: counted as readings, never as actual ones
    _coverage(con)
    return con


def _features(con: duckdb.DuckDBPyConnection, settings) -> dict[str, pl.DataFrame]:
    baseline = feat.compute_baseline_features(con, settings)
    treatment = feat.compute_treatment_features(con, settings, baseline)
    summary = feat.compute_tariff_response_summary(con, treatment, settings)
    household = feat.build_household_features(baseline, treatment, feat.read_households(con, settings), settings)
    return {
        "baseline": baseline.features,
        "baseline_exclusions": baseline.exclusions,
        "normal_day_lifestyle": treatment.normal_day_lifestyle,
        "treatment": treatment.features,
        "events": treatment.event_responses,
        "summary": summary.effects,
        "household": household.features,
    }


def _assert_same(a: dict[str, pl.DataFrame], b: dict[str, pl.DataFrame]) -> None:
    """Equal frames; floats to 1e-9 relative (sums regrouped from months and days)."""
    for name in a:
        x, y = a[name], b[name]
        assert x.columns == y.columns and x.height == y.height, name
        assert x.height > 0, name
        for column in x.columns:
            if x[column].dtype.is_float():
                np.testing.assert_allclose(
                    y[column].to_numpy().astype(float), x[column].to_numpy().astype(float), rtol=1e-9, atol=1e-12,
                    err_msg=f"{name}.{column}",
                )  # fmt: skip
            else:
                assert x[column].equals(y[column]), f"{name}.{column}"


@pytest.mark.parametrize(
    "windows",
    [
        {},  # the fixture's windows (not whole months): day aggregates only
        {  # whole local months: month slot sums and the baseline-year reference from aggregates too
            "baseline_start": date(2012, 1, 1),
            "baseline_end": date(2012, 6, 1),
            "treatment_start": date(2013, 1, 1),
            "treatment_end": date(2013, 4, 1),
            "coverage_threshold": 0.2,
        },
    ],
)
def test_features_from_aggregates_equal_features_from_readings(windows):
    settings = trial_settings(**windows)
    con = _warehouse()
    from_readings = _features(con, settings)

    aggregates.build_aggregates(con, FIRST, END)
    assert aggregates.aggregates_usable(con, settings)
    from_aggregates = _features(con, settings)

    _assert_same(from_readings, from_aggregates)


def test_month_slot_sums_regroup_the_readings_exactly():
    settings = trial_settings(baseline_start=date(2012, 1, 1), baseline_end=date(2012, 6, 1))
    con = _warehouse()
    aggregates.build_aggregates(con, FIRST, END)
    from assets.features.lifestyle import lifestyle_grid
    from assets.features.local_time import window_utc_bounds

    grid, start, end = lifestyle_grid(con, settings, "baseline")
    lo, hi = window_utc_bounds(start, end, settings.timezone)
    con.register("_grid", grid.select("interval_start_utc", "slot", "day_type", "season").to_arrow())
    expected = con.sql(
        """SELECT household_id, slot, day_type, season, sum(kwh) AS kwh, count(*) AS n
           FROM clean.clean_readings r JOIN _grid g USING (interval_start_utc)
           WHERE quality_code = 'A' AND interval_start_utc >= $lo AND interval_start_utc < $hi GROUP BY ALL""",
        params={"lo": lo, "hi": hi},
    ).pl()
    got = aggregates.slot_sums(con, settings, start, end)
    keys = ["household_id", "slot", "day_type", "season"]
    joined = expected.join(got, on=keys, how="full", coalesce=True)
    assert joined.height == expected.height == got.height
    assert (joined["n"] == joined["n_right"]).all()
    np.testing.assert_allclose(joined["kwh_right"].to_numpy(), joined["kwh"].to_numpy(), rtol=1e-12)
    # BST: local April 1 starts at 23:00 UTC on March 31 (partition March), so local months straddle
    straddling = con.sql(
        "SELECT count(*) FROM features.household_month_slots WHERE local_month = DATE '2012-04-01' "
        "AND reading_month = DATE '2012-03-01'"
    ).fetchall()[0][0]
    assert straddling > 0


def test_stale_or_foreign_aggregates_are_not_used():
    settings = trial_settings()
    con = _warehouse()
    aggregates.build_aggregates(con, FIRST, END)
    assert aggregates.aggregates_usable(con, settings)
    assert not aggregates.aggregates_usable(con, trial_settings(bank_holidays=()))  # other day types
    assert not aggregates.aggregates_usable(con, trial_settings(readings_table="clean.other_readings"))

    # the readings of one month change after the aggregates were built (re-cleaned, not re-aggregated)
    con.execute("DELETE FROM clean.clean_readings WHERE household_id = 'S02' AND reading_month = DATE '2013-02-01'")
    _coverage(con)
    assert not aggregates.aggregates_usable(con, settings)
    stale = _features(con, settings)  # falls back to the readings
    con.execute("DROP TABLE features.household_days")
    con.execute("DROP TABLE features.household_month_slots")
    _assert_same(_features(con, settings), stale)

    # without the clean layer's coverage the aggregates cannot be checked: not used
    con = _warehouse()
    aggregates.build_aggregates(con, FIRST, END)
    con.execute("DROP TABLE clean.household_month_coverage")
    assert not aggregates.aggregates_usable(con, settings)


def test_a_month_rebuild_replaces_that_month_only_and_is_idempotent():
    con = _warehouse()
    aggregates.build_aggregates(con, FIRST, END)
    before = {
        t: con.sql(f"SELECT * FROM {t} ORDER BY ALL").pl() for t in (aggregates.SLOTS_TABLE, aggregates.DAYS_TABLE)
    }
    con.execute("UPDATE clean.clean_readings SET kwh = kwh * 2 WHERE reading_month = DATE '2013-02-01'")
    result = aggregates.build_aggregates(con, date(2013, 2, 1), date(2013, 3, 1))
    assert result.months == 1 and result.day_rows > 0
    aggregates.build_aggregates(con, date(2013, 2, 1), date(2013, 3, 1))  # twice: same rows, no duplicates
    month = pl.col("reading_month") == date(2013, 2, 1)
    for table, old in before.items():
        new = con.sql(f"SELECT * FROM {table} ORDER BY ALL").pl()
        assert new.filter(~month).equals(old.filter(~month)), table  # other months untouched
        assert new.filter(month).height == old.filter(month).height, table
        np.testing.assert_allclose(
            new.filter(month)["kwh"].fill_null(0).to_numpy(), 2 * old.filter(month)["kwh"].fill_null(0).to_numpy()
        )
    assert aggregates.aggregates_usable(con, trial_settings())


@pytest.mark.parametrize("window", ["baseline", "treatment_normal_days"])
def test_day_sums_regroup_the_readings_exactly(window):
    """Daily totals, counts, largest reading and block sums (last local day of a month straddles two
    partitions: its final half hour ends in the next month)."""
    from assets.features.lifestyle import _aggregate_sql, lifestyle_grid

    settings = trial_settings(baseline_start=date(2012, 1, 1), baseline_end=date(2012, 6, 1))
    con = _warehouse()
    aggregates.build_aggregates(con, FIRST, END)
    con.execute("CREATE VIEW clean.readings_view AS SELECT * FROM clean.clean_readings")
    on_readings = trial_settings(
        baseline_start=date(2012, 1, 1), baseline_end=date(2012, 6, 1), readings_table="clean.readings_view"
    )
    assert aggregates.aggregates_usable(con, settings) and not aggregates.aggregates_usable(con, on_readings)
    grid, start, end = lifestyle_grid(con, settings, window)
    keys = ["household_id", "local_date"]
    expected = _aggregate_sql(con, on_readings, grid, start, end)[1].sort(keys)
    got = _aggregate_sql(con, settings, grid, start, end)[1].sort(keys)
    assert got.columns == expected.columns and got.height == expected.height > 0
    for column in got.columns:
        if got[column].dtype.is_float():
            np.testing.assert_allclose(got[column].to_numpy(), expected[column].to_numpy(), rtol=1e-12, err_msg=column)
        else:
            assert got[column].equals(expected[column]), column
