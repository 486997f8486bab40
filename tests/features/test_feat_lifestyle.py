"""Exact lifestyle features on hand-made series, DST days, coverage gate and exclusions."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, datetime

import numpy as np
import polars as pl
import pytest

from assets.features.baseline_features import compute_baseline_features
from assets.features.catalogue import PROFILE_COLUMNS, SHAPE_COLUMNS
from assets.features.lifestyle import compute_lifestyle_features, lifestyle_aggregates
from assets.features.settings import FeatureSettings

# Four whole local weeks (Mon 9 Jan - Sun 5 Feb 2012), no bank holiday, winter only.
START, END = date(2012, 1, 9), date(2012, 2, 6)
# The fixtures here hold each day at one value (flat, or one level per day type) to make the lifestyle
# arithmetic exact; to the meter-health rule such a day is a flat-lined meter (tested in
# test_feat_meter_health.py and below), so it is switched off for these arithmetic tests.
S = FeatureSettings(baseline_start=START, baseline_end=END, meter_flat_days=False)

# weekday profile by local slot; weekends are exactly twice it
W = np.array([0.2] * 14 + [0.5, 0.9] + [0.5] * 16 + [1.5] * 4 + [2.0] + [1.5] * 3 + [0.6] * 8)
assert W.size == 48


def step_profile() -> pl.Expr:
    value = pl.col("slot").replace_strict(list(range(48)), W.tolist(), return_dtype=pl.Float64)
    return pl.when(pl.col("weekday") >= 6).then(value * 2).otherwise(value)


def row_of(frame: pl.DataFrame, household: str) -> dict:
    return frame.filter(pl.col("household_id") == household).row(0, named=True)


@pytest.fixture
def step_con(builder):
    return builder.household("STEP").add_readings("STEP", START, END, step_profile).build()


def test_step_profile_exact_features(step_con):
    res = compute_baseline_features(step_con, S)
    assert res.exclusions.height == 0
    r = row_of(res.features, "STEP")
    p = W * (20 + 8 * 2) / 28  # slot means over 20 weekdays and 8 weekend days
    mean_hh = p.mean()
    totals = np.array([W.sum()] * 20 + [2 * W.sum()] * 8)
    assert r["coverage"] == 1.0 and r["actual_half_hours"] == r["expected_half_hours"] == 28 * 48
    assert r["complete_days"] == 28
    assert r["mean_daily_kwh"] == pytest.approx(totals.mean())
    assert r["mean_kwh_per_half_hour"] == pytest.approx(mean_hh)
    assert r["peak_kwh_per_half_hour"] == pytest.approx(p[32:40].mean())
    assert r["peak_offpeak_ratio"] == pytest.approx(p[32:40].mean() / np.r_[p[:32], p[40:]].mean())
    assert r["daily_cv"] == pytest.approx(totals.std(ddof=1) / totals.mean())
    assert r["load_factor"] == pytest.approx(mean_hh / 4.0)  # max reading: weekend 18:00 = 2 x 2.0
    assert r["base_load_kwh"] == pytest.approx(0.2)  # p10 of 01:00-05:00 readings (160 x 0.2, 64 x 0.4)
    assert r["morning_peak_hour"] == 7.5
    assert r["evening_peak_hour"] == 18.0
    assert r["weekday_weekend_ratio"] == pytest.approx(0.5)
    assert r["winter_summer_ratio"] is None  # no summer in the window
    assert r["shape_entropy"] == 0.0  # every day has the same shape type
    assert r["night_share"] == pytest.approx(p[:14].sum() / p.sum())
    assert r["daytime_share"] == pytest.approx(p[20:32].sum() / p.sum())
    assert r["evening_share"] == pytest.approx(p[32:44].sum() / p.sum())
    shape = np.array([r[c] for c in SHAPE_COLUMNS])
    np.testing.assert_allclose(shape, p / mean_hh)
    assert shape.mean() == pytest.approx(1.0)
    np.testing.assert_allclose([r[c] for c in PROFILE_COLUMNS], p)


def test_peak_window_is_configurable(step_con):
    settings = FeatureSettings(baseline_start=START, baseline_end=END, peak_hours=(18.0, 18.5))
    r = row_of(compute_baseline_features(step_con, settings).features, "STEP")
    p = W * 36 / 28
    assert r["peak_kwh_per_half_hour"] == pytest.approx(p[36])
    assert r["peak_offpeak_ratio"] == pytest.approx(p[36] / np.delete(p, 36).mean())


def test_flat_household_and_entropy_of_two_alternating_shapes(builder):
    evening = pl.when(pl.col("slot").is_between(32, 39)).then(1.0).otherwise(0.1)
    morning = pl.when(pl.col("slot").is_between(8, 15)).then(1.0).otherwise(0.1)
    con = (
        builder.household("FLAT").add_readings("FLAT", START, END, 0.3)
        .household("ALT").add_readings(
            "ALT", START, END, lambda: pl.when(pl.col("day_index") % 2 == 0).then(evening).otherwise(morning)
        )
        .build()
    )  # fmt: skip
    # a whole year at one value is a stuck meter to the meter-health rule (tested in
    # test_feat_meter_health.py); switched off here to test the lifestyle arithmetic of a flat profile
    flagged = compute_baseline_features(con, replace(S, meter_flat_days=True)).exclusions
    assert row_of(flagged, "FLAT")["reason"] == "meter_flat_lined"
    f = compute_baseline_features(con, S).features
    flat = row_of(f, "FLAT")
    assert flat["mean_daily_kwh"] == pytest.approx(0.3 * 48)
    assert flat["daily_cv"] == pytest.approx(0.0)
    assert flat["load_factor"] == pytest.approx(1.0)
    assert flat["peak_offpeak_ratio"] == pytest.approx(1.0)
    assert flat["weekday_weekend_ratio"] == pytest.approx(1.0)
    assert flat["shape_entropy"] == 0.0  # all days 'flat'
    assert flat["morning_peak_hour"] == 5.0 and flat["evening_peak_hour"] == 16.0  # earliest slot on ties
    alt = row_of(f, "ALT")
    assert alt["shape_entropy"] == pytest.approx(math.log(2) / math.log(7))


def test_winter_summer_ratio(builder):
    s = FeatureSettings(baseline_start=date(2012, 1, 1), baseline_end=date(2013, 1, 1), meter_flat_days=False)
    value = pl.when(pl.col("month").is_in([12, 1, 2])).then(0.6).when(pl.col("month").is_in([6, 7, 8])).then(0.2)
    con = builder.household("SEAS").add_readings("SEAS", date(2012, 1, 1), date(2013, 1, 1),
                                                 lambda: value.otherwise(0.4)).build()  # fmt: skip
    r = row_of(compute_baseline_features(con, s).features, "SEAS")
    assert r["winter_summer_ratio"] == pytest.approx(3.0)
    assert r["coverage"] == 1.0 and r["expected_half_hours"] == 366 * 48


def test_bank_holidays_count_as_weekend(builder):
    start, end = date(2012, 4, 2), date(2012, 4, 16)  # Good Friday 6 Apr, Easter Monday 9 Apr
    holidays = [date(2012, 4, 6), date(2012, 4, 9)]
    off = (pl.col("weekday") >= 6) | pl.col("local_date").is_in(holidays)
    con = builder.household("BH").add_readings("BH", start, end, lambda: pl.when(off).then(1.0).otherwise(0.5)).build()
    with_bh = row_of(compute_baseline_features(con, replace(S, baseline_start=start, baseline_end=end)).features, "BH")
    assert with_bh["weekday_weekend_ratio"] == pytest.approx(0.5)
    without = replace(S, baseline_start=start, baseline_end=end, bank_holidays=())
    r = row_of(compute_baseline_features(con, without).features, "BH")
    assert r["weekday_weekend_ratio"] == pytest.approx((8 * 0.5 + 2 * 1.0) / 10 / 1.0)


def test_dst_days_local_slots_and_day_totals(builder):
    """18:00-18:30 local is the peak in winter and summer; day totals follow 46/48/50 half hours."""
    peak = lambda: pl.when(pl.col("slot") == 36).then(1.0).otherwise(0.1)  # noqa: E731
    con = (
        builder.household("DST")
        .add_readings("DST", date(2012, 3, 19), date(2012, 4, 2), peak)
        .add_readings("DST", date(2012, 10, 22), date(2012, 11, 5), peak)
        .build()
    )
    # the summer peak reading starts at 17:00 UTC, the winter one at 18:00 UTC
    utc = con.execute(
        "SELECT interval_start_utc FROM clean.clean_readings WHERE kwh = 1.0 ORDER BY interval_start_utc"
    ).fetchall()
    stamps = [u[0] for u in utc]
    assert datetime(2012, 3, 24, 18) in stamps and datetime(2012, 3, 26, 17) in stamps
    assert datetime(2012, 10, 27, 17) in stamps and datetime(2012, 10, 29, 18) in stamps

    s = FeatureSettings(baseline_start=date(2012, 3, 19), baseline_end=date(2012, 11, 5))
    _, day, _ = lifestyle_aggregates(con, s, "baseline")
    days = {r["local_date"]: r for r in day.iter_rows(named=True)}
    assert days[date(2012, 3, 25)]["n"] == days[date(2012, 3, 25)]["day_half_hours"] == 46
    assert days[date(2012, 3, 25)]["total"] == pytest.approx(45 * 0.1 + 1.0)
    assert days[date(2012, 10, 28)]["n"] == days[date(2012, 10, 28)]["day_half_hours"] == 50
    assert days[date(2012, 10, 28)]["total"] == pytest.approx(49 * 0.1 + 1.0)
    assert days[date(2012, 3, 26)]["total"] == pytest.approx(47 * 0.1 + 1.0)

    for window in ((date(2012, 3, 26), date(2012, 4, 2)), (date(2012, 10, 22), date(2012, 10, 28))):
        f = compute_lifestyle_features(con, FeatureSettings(baseline_start=window[0], baseline_end=window[1]))
        assert row_of(f, "DST")["evening_peak_hour"] == 18.0
    whole = row_of(compute_lifestyle_features(con, s), "DST")
    assert whole["evening_peak_hour"] == 18.0
    assert whole["profile_kwh_s36"] == pytest.approx(1.0)
    assert whole["profile_kwh_s02"] == pytest.approx(0.1)  # the repeated hour is two observations, not 0.2
    complete = [d["total"] for d in days.values() if d["n"] == d["day_half_hours"]]
    assert whole["mean_daily_kwh"] == pytest.approx(np.mean(complete))


def test_coverage_gate_and_exclusions_with_reasons(builder):
    drop_week = ~pl.col("local_date").is_between(date(2012, 1, 16), date(2012, 1, 22))  # 7 of 28 days
    drop_two = ~pl.col("local_date").is_in([date(2012, 1, 16), date(2012, 1, 17)])
    estimated = pl.when(pl.col("local_date") == date(2012, 1, 18)).then(pl.lit("E")).otherwise(pl.lit("A"))
    con = (
        builder.household("LOW").add_readings("LOW", START, END, 0.5, keep=lambda: drop_week)
        .household("OK").add_readings("OK", START, END, 0.5, keep=lambda: drop_two)
        .household("EST").add_readings("EST", START, END, 0.5, quality=lambda: estimated)
        .household("LATE").add_readings("LATE", date(2013, 1, 1), date(2013, 1, 8), 0.5)
        .build()
    )  # fmt: skip
    res = compute_baseline_features(con, S)
    assert sorted(res.features["household_id"]) == ["EST", "OK"]
    ok = row_of(res.features, "OK")
    assert ok["coverage"] == pytest.approx(26 / 28) and ok["complete_days"] == 26
    est = row_of(res.features, "EST")
    assert est["coverage"] == pytest.approx(27 / 28) and est["actual_half_hours"] == 27 * 48
    ex = {r["household_id"]: r for r in res.exclusions.iter_rows(named=True)}
    assert set(ex) == {"LOW", "LATE"}
    assert ex["LOW"]["reason"] == "below_coverage_threshold"
    assert ex["LOW"]["coverage"] == pytest.approx(0.75)
    assert ex["LOW"]["actual_half_hours"] == 21 * 48 and ex["LOW"]["expected_half_hours"] == 28 * 48
    assert "0.75" in ex["LOW"]["detail"]
    assert ex["LATE"]["reason"] == "no_actual_readings_in_window" and ex["LATE"]["coverage"] == 0.0
    assert set(res.exclusions["stage"]) == {"baseline_features"}


def test_empty_window_gives_empty_validated_frames(builder):
    con = builder.household("X").add_readings("X", date(2013, 1, 1), date(2013, 1, 3), 0.5).build()
    res = compute_baseline_features(con, S)
    assert res.features.height == 0
    assert res.exclusions["reason"].to_list() == ["no_actual_readings_in_window"]


def test_winter_weekday_peak_kw_is_weekday_peak_load_in_kw(step_con):
    """2 x mean kWh per half hour over 16:00-20:00 on weekdays only (the weekends, twice as high, are out)."""
    r = row_of(compute_baseline_features(step_con, S).features, "STEP")
    assert r["winter_weekday_peak_kw"] == pytest.approx(2.0 * W[32:40].mean())
    assert r["winter_weekday_peak_kw"] != pytest.approx(2.0 * r["peak_kwh_per_half_hour"])


def test_winter_weekday_peak_kw_needs_winter_weekdays(builder):
    """None outside Dec-Feb and with fewer than 14 winter weekdays of peak readings."""
    summer = (date(2012, 6, 4), date(2012, 7, 2))
    short = (date(2012, 2, 13), date(2012, 3, 5))  # 13 February weekdays, then March
    con = (
        builder.household("SUMMER")
        .add_readings("SUMMER", *summer, step_profile)
        .household("SHORT")
        .add_readings("SHORT", *short, step_profile)
        .build()
    )
    for household, (start, end) in (("SUMMER", summer), ("SHORT", short)):
        settings = FeatureSettings(baseline_start=start, baseline_end=end)
        r = row_of(compute_lifestyle_features(con, settings), household)
        assert r["coverage"] == 1.0
        assert r["winter_weekday_peak_kw"] is None, household
    fourteen = FeatureSettings(baseline_start=date(2012, 2, 10), baseline_end=date(2012, 3, 5))
    con2 = builder.household("FOURTEEN").add_readings("FOURTEEN", date(2012, 2, 10), date(2012, 3, 5), step_profile)
    r = row_of(compute_lifestyle_features(con2.build(), fourteen), "FOURTEEN")
    assert r["winter_weekday_peak_kw"] == pytest.approx(2.0 * W[32:40].mean())


def test_shape_types_do_not_depend_on_the_summation_order_of_equal_blocks():
    """Equal block sums (metered values often repeat) and a share of exactly the flat threshold come out
    of the two engines 1e-15 apart, depending on the order they add the half hours: the day's shape
    type, and so shape_entropy, must not follow that noise (the whole-sample engine parity run found
    it did, for 4 households of the real sample)."""
    from polars.testing import assert_frame_equal

    from assets.features.lifestyle import _entropy
    from assets.features.settings import FeatureSettings

    def days(noise: float) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "household_id": ["tie", "tie", "flat", "flat", "edge", "edge"],
                "complete": [True] * 6,
                "total": [1.0] * 6,
                "b0": [0.5, 1.0, 0.25 - noise, 0.7, 0.25 - abs(noise), 0.7],
                "b1": [0.5 + noise, 0.0, 0.25, 0.3, 0.25 - abs(noise), 0.3],
                "b2": [0.0, 0.0, 0.25, 0.0, 0.2 + 2 * abs(noise), 0.0],
                "b3": [0.0, 0.0, 0.25, 0.0, 0.1, 0.0],
                "b4": [0.0, 0.0, 0.0, 0.0, 0.1, 0.0],
                "b5": [0.0, 0.0, 0.0, 0.0, 0.1, 0.0],
            }
        )

    settings = FeatureSettings()
    exact = _entropy(days(0.0), settings).sort("household_id")
    for noise in (1e-15, -1e-15):
        assert_frame_equal(_entropy(days(noise), settings).sort("household_id"), exact)
    # ties go to the earliest block; a largest share of 0.25 (to 1e-15) is not flat
    assert exact["shape_entropy"].to_list() == [0.0, 0.0, 0.0]
