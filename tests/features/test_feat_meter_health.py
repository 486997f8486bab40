"""Meter health (assets/features/meter_health.py) on readings cut from the REAL LCL sample: a stuck meter
(constant 5 kWh per half hour, 10 kW) and an all-zero meter are excluded with their reasons and never
reach household_features; a month of zeros counts as missing for the coverage gate; a real household
with genuine short zero runs is kept untouched. Both read paths (aggregates, readings) agree."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import duckdb
import polars as pl
import pytest

from assets.features import aggregate_reads, aggregates
from assets.features import compute as feat
from assets.features.settings import FeatureSettings
from tests.conftest import LCL_SAMPLE
from tests.features.feature_fixtures import Event, WarehouseBuilder, write_month_coverage

LCL = LCL_SAMPLE / "readings" / "kaggle_2013"
pytestmark = [
    pytest.mark.real_data,
    pytest.mark.skipif(not LCL.is_dir(), reason=f"real LCL sample not found at {LCL_SAMPLE}"),
]
READINGS = (date(2013, 1, 1), date(2013, 10, 1))  # local dates kept from the real files
NORMAL = ["MAC000002", "MAC000005", "MAC000013"]  # real, unmodified (MAC000005 is ToU)
SHORT_ZEROS = "MAC000006"  # real: 264 zero half hours in Jan-Jun 2013, in runs shorter than a day
STUCK, ALL_ZERO, ZERO_MONTH = "MAC000007", "MAC000010", "MAC000011"  # real files, values rewritten
HOUSEHOLDS = [*NORMAL, SHORT_ZEROS, STUCK, ALL_ZERO, ZERO_MONTH]
EVENTS = [
    Event(datetime(2013, 7, 16, 17), 6, "High"),
    Event(datetime(2013, 8, 6, 17), 6, "High"),
    Event(datetime(2013, 8, 20, 11), 6, "Low"),
    Event(datetime(2013, 9, 10, 17), 6, "High"),
]
FIRST, END = date(2013, 1, 1), date(2013, 11, 1)  # partition months of the readings


def settings(**overrides) -> FeatureSettings:
    values = dict(
        baseline_start=date(2013, 1, 1), baseline_end=date(2013, 7, 1),
        treatment_start=date(2013, 7, 1), treatment_end=date(2013, 10, 1),
        reference_weeks=2, bootstrap_replicates=50, household_bootstrap_replicates=20,
    )  # fmt: skip
    values.update(overrides)
    return FeatureSettings(**values)


def _real(household: str) -> pl.DataFrame:
    """The household's real readings: ``tstp`` is the END of the half hour, on UTC (README of the sample)."""
    frame = pl.read_csv(LCL / f"{household}.csv.gz", schema_overrides={"energy(kWh/hh)": pl.String})
    lo, hi = (datetime.combine(d, datetime.min.time()) for d in READINGS)
    return (
        frame.select(
            household_id=pl.col("LCLid"),
            interval_start_utc=pl.col("tstp").str.to_datetime("%Y-%m-%d %H:%M:%S", time_unit="us")
            - timedelta(minutes=30),
            kwh=pl.col("energy(kWh/hh)").str.strip_chars().cast(pl.Float64),
            quality_code=pl.lit("A"),
        )
        .filter((pl.col("interval_start_utc") >= lo) & (pl.col("interval_start_utc") < hi))
        .unique("interval_start_utc")
    )


def _warehouse() -> duckdb.DuckDBPyConnection:
    b = WarehouseBuilder()
    for household in HOUSEHOLDS:
        b.household(household, "ToU" if household == "MAC000005" else "Std")
        real = _real(household)
        if household == STUCK:
            real = real.with_columns(kwh=pl.lit(5.0))  # stuck at 10 kW
        elif household == ALL_ZERO:
            real = real.with_columns(kwh=pl.lit(0.0))
        elif household == ZERO_MONTH:  # March 2013 (GMT: local = UTC) reads 0
            march = pl.col("interval_start_utc").is_between(datetime(2013, 3, 1), datetime(2013, 4, 1), closed="left")
            real = real.with_columns(kwh=pl.when(march).then(0.0).otherwise(pl.col("kwh")))
        b.readings.append(real)
    con = b.schedule(date(2013, 7, 1), date(2013, 10, 1), EVENTS).build()
    write_month_coverage(con)
    return con


def _features(con: duckdb.DuckDBPyConnection, s: FeatureSettings) -> dict[str, pl.DataFrame]:
    baseline = feat.compute_baseline_features(con, s)
    treatment = feat.compute_treatment_features(con, s, baseline)
    household = feat.build_household_features(baseline, treatment, feat.read_households(con, s), s)
    return {
        "baseline": baseline.features,
        "baseline_exclusions": baseline.exclusions,
        "normal_day_lifestyle": treatment.normal_day_lifestyle,
        "household": household.features,
        "household_exclusions": household.exclusions,
    }


@pytest.fixture(scope="module")
def case() -> tuple[duckdb.DuckDBPyConnection, dict[str, pl.DataFrame]]:
    con = _warehouse()
    return con, _features(con, settings())


def _reasons(frame: pl.DataFrame) -> dict[str, str]:
    return dict(frame.select("household_id", "reason").iter_rows())


def test_stuck_and_all_zero_meters_are_excluded_with_their_reason_and_never_reach_household_features(case):
    _, f = case
    baseline = _reasons(f["baseline_exclusions"])
    household = _reasons(f["household_exclusions"])
    assert baseline == {STUCK: "meter_flat_lined", ALL_ZERO: "meter_all_zero"}, baseline
    assert household == {STUCK: "meter_flat_lined", ALL_ZERO: "meter_all_zero"}, household
    kept = set(f["household"]["household_id"])
    assert kept == {*NORMAL, SHORT_ZEROS, ZERO_MONTH}, kept
    detail = dict(f["household_exclusions"].select("household_id", "detail").iter_rows())
    assert "flat-lined" in detail[STUCK] and "meter-flagged" in detail[STUCK], detail
    # every complete day of the stuck meter is flat; every day of the all-zero meter is a zero day
    stuck = f["normal_day_lifestyle"].filter(pl.col("household_id") == STUCK).row(0, named=True)
    assert stuck["flat_lined_days"] == stuck["complete_days"] > 0 and stuck["coverage"] < 0.05, stuck
    zero = f["baseline_exclusions"].filter(pl.col("household_id") == ALL_ZERO).row(0, named=True)
    assert zero["coverage"] == 0.0 and zero["actual_half_hours"] == 0, zero


def test_genuine_short_zero_runs_are_kept_and_a_month_of_zeros_counts_as_missing(case):
    con, f = case
    rows = {r["household_id"]: r for r in f["baseline"].iter_rows(named=True)}
    short = rows[SHORT_ZEROS]
    assert short["meter_flagged_half_hours"] == 0 and short["zero_days"] == 0, short  # real zeros, under a day
    assert short["coverage"] == short["actual_half_hours"] / short["expected_half_hours"]
    march = con.execute(
        "SELECT count(*) FROM clean.clean_readings WHERE household_id = $h AND interval_start_utc >= "
        "TIMESTAMP '2013-03-01' AND interval_start_utc < TIMESTAMP '2013-04-01'",
        {"h": ZERO_MONTH},
    ).fetchall()[0][0]
    # local days: 2013-03-31 has 46 half hours (BST from 01:00 GMT), the last two zero UTC half hours of
    # March are 00:00-01:00 BST of April 1, a day with readings above 0 (not a zero day)
    flagged = march - 2
    month = rows[ZERO_MONTH]
    assert month["zero_days"] == 31 and month["meter_flagged_half_hours"] == flagged, month
    assert month["coverage"] == pytest.approx((month["actual_half_hours"] - flagged) / month["expected_half_hours"])
    for household in NORMAL:
        assert rows[household]["meter_flagged_half_hours"] == 0, rows[household]


def test_flagged_days_that_take_a_household_below_the_gate_name_the_meter_reason():
    """The existing coverage gate decides: at 0.85 the month of zeros (150 of 181 days usable) is out of the
    baseline with the meter reason (its actual half hours alone would pass); the household keeps the stated
    fallback window, the trial year's event-free days, which have no zero day."""
    con = _warehouse()
    f = _features(con, settings(coverage_threshold=0.85))
    assert _reasons(f["baseline_exclusions"])[ZERO_MONTH] == "meter_zero_days"
    window = dict(f["household"].select("household_id", "lifestyle_window").iter_rows())
    assert window[ZERO_MONTH] == "treatment_normal_days", window


@pytest.mark.parametrize(
    "rules_off",
    [{"meter_flat_days": False}, {"meter_zero_days": False}],
)
def test_without_the_rule_the_broken_meter_is_segmented(rules_off):
    """The rule is what keeps the meter out: switched off, the stuck meter (or the zero meter) is a household."""
    con = _warehouse()
    f = _features(con, settings(**rules_off))
    broken = STUCK if "meter_flat_days" in rules_off else ALL_ZERO
    assert broken in set(f["household"]["household_id"])


def test_the_implausible_level_rule_flags_a_sustained_level_no_domestic_supply_carries():
    con = _warehouse()
    con.execute("UPDATE clean.clean_readings SET kwh = 12.0 + 0.001 * (epoch(interval_start_utc) % 7) "
                "WHERE household_id = $h", {"h": STUCK})  # fmt: skip
    f = _features(con, settings())
    assert _reasons(f["baseline_exclusions"])[STUCK] == "meter_implausible_level"
    assert _reasons(f["household_exclusions"])[STUCK] == "meter_implausible_level"
    assert STUCK in set(_features(con, settings(meter_implausible_min_kwh=None))["household"]["household_id"])


def test_meter_health_is_the_same_from_the_aggregates_and_from_the_readings(case):
    con, from_readings = case
    aggregates.build_aggregates(con, FIRST, END)
    assert aggregate_reads.aggregates_usable(con, settings())
    with aggregate_reads.recorded_reads() as reads:
        from_aggregates = _features(con, settings())
    assert aggregates.DAYS_TABLE in {t for tables in aggregate_reads.read_sources(reads).values() for t in tables}
    for name, frame in from_readings.items():
        other = from_aggregates[name]
        assert frame.columns == other.columns and frame.height == other.height, name
        keep = [c for c in frame.columns if not frame[c].dtype.is_float()]
        assert frame.select(keep).equals(other.select(keep)), name


def test_aggregates_of_an_older_definition_are_not_used_and_a_rebuild_replaces_them(monkeypatch):
    """A warehouse built before min_kwh existed (household_days without it, fingerprint rows without the
    definition) falls back to the readings; a build drops and recreates those tables; a changed definition
    (same columns, other SQL) makes every month stale until rebuilt."""
    s = settings()
    con = _warehouse()
    expected = _features(con, s)
    aggregates.build_aggregates(con, FIRST, END)
    con.execute("ALTER TABLE features.household_days DROP COLUMN min_kwh")
    con.execute("ALTER TABLE features.aggregate_month_inputs DROP COLUMN definition")
    assert not aggregate_reads.aggregates_usable(con, s)
    assert _reasons(_features(con, s)["baseline_exclusions"]) == _reasons(expected["baseline_exclusions"])
    aggregates.build_aggregates(con, date(2013, 1, 1), date(2013, 2, 1))  # one month: the others are missing
    assert not aggregate_reads.aggregates_usable(con, s)
    aggregates.build_aggregates(con, FIRST, END)
    assert aggregate_reads.aggregates_usable(con, s) and aggregate_reads.stale_schedule_months(con) == []

    monkeypatch.setattr(aggregates, "DEFINITION", "another definition")
    monkeypatch.setattr(aggregates, "_INPUTS_CACHE", {})
    assert not aggregate_reads.aggregates_usable(con, s)
    assert len(aggregate_reads.stale_schedule_months(con)) == 10  # every month with readings
    aggregates.build_aggregates(con, FIRST, END)
    assert aggregate_reads.aggregates_usable(con, s) and aggregate_reads.stale_schedule_months(con) == []
