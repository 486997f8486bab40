"""Per-household-month aggregates (assets/features/aggregates.py): features computed from them equal
features computed from the readings, stale aggregates are never used, and a month's rebuild replaces
that month's rows only."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import numpy as np
import polars as pl
import pytest

from assets.common.months import next_month
from assets.features import aggregate_reads, aggregates
from assets.features import compute as feat
from assets.features.settings import FeatureSettings
from tests.features.feature_fixtures import (
    Event,
    WarehouseBuilder,
    base_profile,
    local_frame,
    mark_estimated,
    noisy_trial_builder,
    trial_settings,
    write_month_coverage,
)

FIRST, END = date(2011, 12, 1), date(2014, 2, 1)  # partition months holding every fixture reading


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
    write_month_coverage(con)
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
    assert aggregate_reads.aggregates_usable(con, settings)
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
    got = aggregate_reads.slot_sums(con, settings, start, end)
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
    assert aggregate_reads.aggregates_usable(con, settings)
    assert not aggregate_reads.aggregates_usable(con, trial_settings(bank_holidays=()))  # other day types
    assert not aggregate_reads.aggregates_usable(con, trial_settings(readings_table="clean.other_readings"))

    # the readings of one month change after the aggregates were built (re-cleaned, not re-aggregated)
    con.execute("DELETE FROM clean.clean_readings WHERE household_id = 'S02' AND reading_month = DATE '2013-02-01'")
    write_month_coverage(con)
    assert not aggregate_reads.aggregates_usable(con, settings)
    stale = _features(con, settings)  # falls back to the readings
    con.execute("DROP TABLE features.household_days")
    con.execute("DROP TABLE features.household_month_slots")
    _assert_same(_features(con, settings), stale)

    # without the clean layer's coverage the aggregates cannot be checked: not used
    con = _warehouse()
    aggregates.build_aggregates(con, FIRST, END)
    con.execute("DROP TABLE clean.household_month_coverage")
    assert not aggregate_reads.aggregates_usable(con, settings)


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
    assert aggregate_reads.aggregates_usable(con, trial_settings())


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
    assert aggregate_reads.aggregates_usable(con, settings) and not aggregate_reads.aggregates_usable(con, on_readings)
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


# --- the schedule-dependent aggregates: event half hours and event-free-day week sums ------------------

# Events where the aggregates break if keyed wrongly: across local and UTC midnight, across month ends,
# on both clock-change days (2013-03-31: 23 h; 2013-10-27: 25 h) and, shifted 364 days back for the
# placebo, next to the 2012 ones (2012-03-25, 2012-10-28). Fixture events use local clock times.
DST_EVENTS = [
    Event(datetime(2013, 2, 28, 23, 30), 2, "High"),  # Thu 23:30 GMT into March 1: local = UTC month end
    Event(datetime(2013, 3, 24, 1), 4, "High"),  # placebo: 2012-03-25 01:00 (364 days back), in the 2012 spring gap
    Event(datetime(2013, 3, 29, 17), 6, "High"),  # Good Friday (bank holiday: a weekend day type)
    Event(datetime(2013, 3, 31, 0), 4, "High"),  # spans the spring gap (00:00, 00:30 GMT, 02:00, 02:30 BST)
    Event(datetime(2013, 3, 31, 23), 4, "High"),  # BST 23:00 = 22:00 UTC: into April 1 (local and UTC)
    Event(datetime(2013, 4, 9, 11), 6, "Low"),
    Event(datetime(2013, 4, 30, 23), 4, "High"),  # BST: local day ends in May, UTC stamps still April
    Event(datetime(2013, 10, 27, 1), 4, "High"),  # the repeated hour of the 25-hour day
    Event(datetime(2013, 10, 31, 22), 6, "High"),  # GMT into November 1
    Event(datetime(2013, 11, 5, 17), 6, "Low"),
]
DST_READINGS = (
    (date(2012, 2, 1), date(2012, 5, 8)),
    (date(2012, 9, 20), date(2012, 11, 20)),
    (date(2013, 2, 1), date(2013, 5, 8)),
    (date(2013, 9, 20), date(2013, 11, 20)),
)


def _dst_settings(**overrides):
    # the default whole-year windows; few readings per household, so a low coverage gate
    return FeatureSettings(**{"coverage_threshold": 0.1, "bootstrap_replicates": 100, **overrides})


def _dst_warehouse() -> duckdb.DuckDBPyConnection:
    rng = np.random.default_rng(13)
    b = WarehouseBuilder().schedule(date(2013, 1, 1), date(2014, 1, 1), DST_EVENTS)
    for hid, group in [*((f"S{i:02d}", "Std") for i in range(10)), *((f"T{i}", "ToU") for i in range(3))]:
        level = float(rng.uniform(0.5, 1.5))
        b.household(hid, group)
        for window in DST_READINGS:
            noise = pl.Series(np.clip(1.0 + rng.normal(0.0, 0.3, local_frame(*window).height), 0.05, None))
            b.add_readings(hid, *window, lambda level=level, noise=noise: base_profile(level)() * pl.lit(noise))
    con = b.build()
    mark_estimated(con, "S01", 3, 0.25)  # estimates in an event: never an event reading
    write_month_coverage(con)
    return con


def _dst_features(con: duckdb.DuckDBPyConnection, settings) -> dict[str, pl.DataFrame]:
    baseline = feat.compute_baseline_features(con, settings)
    treatment = feat.compute_treatment_features(con, settings, baseline)
    summary = feat.compute_tariff_response_summary(con, treatment, settings)
    return {
        "normal_day_lifestyle": treatment.normal_day_lifestyle,
        "treatment": treatment.features,
        "events": treatment.event_responses,
        "placebo_events": summary.placebo_event_responses,
        "summary": summary.effects,  # placebo and the adjacent-day sensitivity included
    }


@pytest.fixture(scope="module")
def dst_case() -> tuple[duckdb.DuckDBPyConnection, dict[str, pl.DataFrame]]:
    """The DST warehouse with every aggregate built, and its features computed from the readings."""
    con = _dst_warehouse()
    settings = _dst_settings()
    from_readings = _dst_features(con, settings)
    aggregates.build_aggregates(con, FIRST, END)
    return con, from_readings


def _spy_uses(monkeypatch) -> list:
    """Record what event_aggregates and normal_day_slot_sums answered in each call."""
    uses: list = []
    event_aggregates, normal = aggregate_reads.event_aggregates, aggregate_reads.normal_day_slot_sums

    def spy_events(*args, **kwargs):
        uses.append(("events", event_aggregates(*args, **kwargs)))
        return uses[-1][1]

    def spy_normal(*args, **kwargs):
        uses.append(("normal", normal(*args, **kwargs)))
        return uses[-1][1]

    monkeypatch.setattr(aggregate_reads, "event_aggregates", spy_events)
    monkeypatch.setattr(aggregate_reads, "normal_day_slot_sums", spy_normal)
    return uses


def test_schedule_aggregates_equal_the_readings_across_clock_changes_and_month_ends(dst_case, monkeypatch):
    """Event half hours, within-window reference (main run, adjacent-day sensitivity, placebo) and the
    event-free-day profile from the aggregates: every table equal to the readings' computation."""
    con, from_readings = dst_case
    settings = _dst_settings()
    assert aggregate_reads.verified_schedule_inputs(con, settings) is not None
    uses = _spy_uses(monkeypatch)
    from_aggregates = _dst_features(con, settings)
    events = [u for kind, u in uses if kind == "events"]
    assert events == [  # the trial DiD, the placebo, the sensitivity: each answered by the aggregates
        aggregate_reads.EventAggregates("tariff", True),
        aggregate_reads.EventAggregates("placebo", True),
        aggregate_reads.EventAggregates("tariff", False),
    ]
    assert all(u is not None for kind, u in uses if kind == "normal")
    # the fixture reaches the cases: event rows on both clock-change days and across both month ends
    rows = con.sql(
        "SELECT count(DISTINCT CAST(interval_start_utc AS DATE)) FROM features.household_event_readings "
        "WHERE CAST(interval_start_utc AS DATE) IN ('2013-03-31', '2013-10-27', '2012-03-25', '2012-10-28', "
        "'2013-04-30', '2013-10-31', '2012-04-01')"
    ).fetchall()[0][0]
    assert rows == 7
    straddling = con.sql(
        "SELECT count(*) FROM features.household_reference_slots WHERE week_start < local_month"
    ).fetchall()[0][0]
    assert straddling > 0
    _assert_same(from_readings, from_aggregates)


def _mutate_week_at_month_end(con):  # the part of a week in its second month keyed by that month's first week
    con.execute(
        "UPDATE features.household_reference_slots SET week_start = week_start + 7 WHERE week_start < local_month"
    )


def _mutate_bst_slots(con):  # BST days' slots taken from UTC instead of local clock time
    con.execute(
        "UPDATE features.household_reference_slots SET slot = (slot + 46) % 48 WHERE month(local_month) BETWEEN 4 AND 9"
    )


def _mutate_spring_day(con):  # the 23-hour day's event readings stamped an hour late
    con.execute(
        "UPDATE features.household_event_readings SET interval_start_utc = interval_start_utc + INTERVAL 1 HOUR "
        "WHERE CAST(interval_start_utc AS DATE) = DATE '2013-03-31'"
    )


def _mutate_autumn_day(con):  # the 25-hour day's reference readings counted as a 24-hour day's
    con.execute(
        "DELETE FROM features.household_reference_slots WHERE slot IN (2, 3) AND schedule = 'placebo' "
        "AND week_start = DATE '2012-10-22'"
    )


@pytest.mark.parametrize(
    "mutate", [_mutate_week_at_month_end, _mutate_bst_slots, _mutate_spring_day, _mutate_autumn_day]
)
def test_a_wrong_aggregate_fails_the_comparison(dst_case, mutate):
    """Each of these wrong aggregates (which keep the counts the staleness check looks at) changes a
    feature table: the comparison above can fail."""
    con, from_readings = dst_case
    settings = _dst_settings()
    mutated = duckdb.connect()
    for schema in ("ingest", "clean", "features"):
        mutated.execute(f"CREATE SCHEMA {schema}")
    for schema, table in con.sql(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE schema_name IN ('ingest', 'clean', 'features')"
    ).fetchall():
        frame = con.sql(f'SELECT * FROM "{schema}"."{table}"').arrow()
        mutated.register("_copy", frame)
        mutated.execute(f'CREATE TABLE "{schema}"."{table}" AS SELECT * FROM _copy')
        mutated.unregister("_copy")
    mutate(mutated)
    assert aggregate_reads.verified_schedule_inputs(mutated, settings) is not None  # not detectable as stale
    with pytest.raises(AssertionError):
        _assert_same(from_readings, _dst_features(mutated, settings))


def test_a_changed_schedule_is_detected_and_its_months_rebuilt():
    """A schedule changed after the aggregates were built: the months it touches are stale, the features
    fall back to the readings (never stale aggregates), and rebuilding those months alone restores them."""
    con = _dst_warehouse()
    settings = _dst_settings()
    aggregates.build_aggregates(con, FIRST, END)
    assert aggregate_reads.stale_schedule_months(con) == []
    # the Low event of 2013-11-05 moves a day later
    con.execute(
        "UPDATE ingest.tariff_schedule SET band = 'Normal', event_id = NULL, event_start_utc = NULL, "
        "event_start_local = NULL WHERE event_id = 10"
    )
    con.execute(
        "UPDATE ingest.tariff_schedule SET band = 'Low', event_id = 10, "
        "event_start_utc = TIMESTAMP '2013-11-06 17:00', event_start_local = TIMESTAMP '2013-11-06 17:00' "
        "WHERE interval_start_utc >= TIMESTAMP '2013-11-06 17:00' AND interval_start_utc < TIMESTAMP '2013-11-06 20:00'"
    )
    stale = aggregate_reads.stale_schedule_months(con)
    assert stale == [date(2012, 11, 1), date(2013, 11, 1)]  # the trial month and its placebo month
    assert aggregate_reads.verified_schedule_inputs(con, settings) is None
    # what the features asset reports in its metadata and run log (the asset's helper)
    from assets.features.assets import _stale_aggregate_months

    assert _stale_aggregate_months(con) == stale
    fallback = _dst_features(con, settings)
    schedule_tables = ("household_event_readings", "household_reference_slots", "aggregate_month_inputs")
    for table in schedule_tables:
        con.execute(f"ALTER TABLE features.{table} RENAME TO saved_{table}")
    assert _stale_aggregate_months(con) == []  # none stored: nothing to report stale
    from_readings = _dst_features(con, settings)  # no schedule aggregates at all
    _assert_same(from_readings, fallback)
    for table in schedule_tables:
        con.execute(f"ALTER TABLE features.saved_{table} RENAME TO {table}")
    for month in stale:
        aggregates.build_aggregates(con, month, next_month(month))
    assert aggregate_reads.stale_schedule_months(con) == []
    assert aggregate_reads.verified_schedule_inputs(con, settings) is not None
    _assert_same(from_readings, _dst_features(con, settings))


WHOLE_MONTHS = {
    "baseline_start": date(2012, 1, 1),
    "baseline_end": date(2012, 6, 1),
    "treatment_start": date(2013, 1, 1),
    "treatment_end": date(2013, 4, 1),
    "coverage_threshold": 0.2,
}


def _sources(con, settings) -> tuple[dict[str, pl.DataFrame], dict[str, list[str]]]:
    with aggregate_reads.recorded_reads() as reads:
        frames = _features(con, settings)
    return frames, aggregate_reads.read_sources(reads, "duckdb")


def test_the_readers_say_which_table_answered_and_a_month_without_its_fingerprint_is_not_used():
    """The readers record which table answered (the features asset reports it as ``read_sources``): the
    readings before the aggregates exist, the aggregates after; a month whose fingerprint row is missing
    (on Spark: a build that died between its table writes) sends every reader back to the readings."""
    settings = trial_settings(**WHOLE_MONTHS)
    con = _warehouse()
    from_readings, before = _sources(con, settings)
    assert before and all(tables == [settings.readings_table] for tables in before.values()), before

    aggregates.build_aggregates(con, FIRST, END)
    from_aggregates, after = _sources(con, settings)
    assert after.keys() == before.keys()
    by_readings = {reader for reader, tables in after.items() if settings.readings_table in tables}
    assert by_readings and all("base-load quantile" in reader for reader in by_readings), by_readings  # exact quantile
    answered = {table for tables in after.values() for table in tables}
    assert {aggregates.SLOTS_TABLE, aggregates.DAYS_TABLE} <= answered, after
    _assert_same(from_readings, from_aggregates)

    con.execute("DELETE FROM features.aggregate_month_inputs WHERE reading_month = DATE '2013-02-01'")
    assert aggregate_reads.stale_schedule_months(con) == [date(2013, 2, 1)]
    assert not aggregate_reads.aggregates_usable(con, settings)  # the counts still match: the marker decides
    fallback, missing = _sources(con, settings)
    assert missing == before, missing
    _assert_same(from_readings, fallback)
