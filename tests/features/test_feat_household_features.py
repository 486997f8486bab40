"""features.household_features: contract columns, lifestyle window choice, exclusions."""

from __future__ import annotations

import polars as pl
import pytest

from assets.common.table_model import column_names
from assets.features.compute import (
    build_household_features,
    compute_baseline_features,
    compute_treatment_features,
    read_households,
)
from assets.features.schemas.household_features import HouseholdFeatures
from tests.features.feature_fixtures import modify_readings, trial_builder, trial_settings

CONTRACT = [
    "household_id",
    "tariff_group",
    "acorn",
    "acorn_group",
    "is_treated",
    "lifestyle_window",
    "coverage",
    "mean_daily_kwh",
    "mean_kwh_per_half_hour",
    "peak_kwh_per_half_hour",
    "peak_offpeak_ratio",
    "daily_cv",
    "load_factor",
    "base_load_kwh",
    "morning_peak_hour",
    "evening_peak_hour",
    "weekday_weekend_ratio",
    "winter_summer_ratio",
    "shape_entropy",
    "night_share",
    "daytime_share",
    "evening_share",
]
CONTRACT += [f"shape_s{i:02d}" for i in range(48)]
CONTRACT += [
    "response_method",
    "high_did_kwh",
    "high_did_pct",
    "low_did_kwh",
    "low_did_pct",
    "rebound_did_pct",
    "preload_did_pct",
    "high_p_value",
    "responder",
]


@pytest.fixture(scope="module")
def built():
    b = trial_builder()
    b.household("GHOST", "ToU")  # in ingest.households, no readings at all
    con = b.build()
    modify_readings(con, ["T1", "T2"], factor=0.8, band="High")
    settings = trial_settings()
    baseline = compute_baseline_features(con, settings)
    treatment = compute_treatment_features(con, settings, baseline)
    return (
        baseline,
        treatment,
        build_household_features(baseline, treatment, read_households(con, settings), settings),
    )


def row_of(frame: pl.DataFrame, household: str) -> dict:
    return frame.filter(pl.col("household_id") == household).row(0, named=True)


def test_contract_columns_first_and_in_order(built):
    _, _, res = built
    assert res.features.columns[: len(CONTRACT)] == CONTRACT
    assert column_names(HouseholdFeatures) == res.features.columns
    dtypes = dict(res.features.schema)
    assert dtypes["is_treated"] == pl.Boolean and dtypes["responder"] == pl.Boolean
    for col in ("high_did_kwh", "high_did_pct", "rebound_did_pct", "high_p_value", "winter_summer_ratio"):
        assert dtypes[col] == pl.Float64


def test_lifestyle_window_choice(built):
    baseline, treatment, res = built
    f = res.features
    assert sorted(f["household_id"]) == ["C1", "C2", "C3", "C4", "C5", "T1", "T2"]
    t1 = row_of(f, "T1")
    assert t1["lifestyle_window"] == "baseline"
    assert t1["mean_daily_kwh"] == pytest.approx(row_of(baseline.features, "T1")["mean_daily_kwh"])
    t2 = row_of(f, "T2")
    assert t2["lifestyle_window"] == "treatment_normal_days"
    normal = row_of(treatment.normal_day_lifestyle, "T2")
    assert t2["mean_daily_kwh"] == pytest.approx(normal["mean_daily_kwh"])
    assert t2["coverage"] == normal["coverage"] == 1.0
    # the event days are not part of the normal-day window: the -20 % response does not leak in
    # normal days: 34 weekdays (0.2 + 0.6) x 0.9 and 14 weekend days (+0.1) x 0.9 in 16:00-20:00
    assert t2["peak_kwh_per_half_hour"] == pytest.approx((34 * 0.72 + 14 * 0.81) / 48)


def test_treatment_and_acorn_columns(built):
    _, _, res = built
    f = res.features
    t2 = row_of(f, "T2")
    assert t2["is_treated"] is True and t2["acorn"] == "ACORN-Q" and t2["acorn_group"] == "Adversity"
    assert t2["response_method"] == "within_window_did" and t2["high_did_pct"] == pytest.approx(-0.2)
    assert row_of(f, "T1")["response_method"] == "baseline_year_did"
    c1 = row_of(f, "C1")
    assert c1["is_treated"] is False and c1["responder"] is False and c1["tariff_group"] == "Std"


def test_exclusions_recorded(built):
    _, _, res = built
    ex = {r["household_id"]: r for r in res.exclusions.iter_rows(named=True)}
    assert set(ex) == {"T3", "GHOST"}
    assert ex["T3"]["reason"] == "no_lifestyle_window"
    assert ex["T3"]["lifestyle_window"] == "treatment_normal_days"
    assert ex["T3"]["coverage"] < 0.8 and "both < 0.8" in ex["T3"]["detail"]
    assert ex["GHOST"]["reason"] == "no_readings" and ex["GHOST"]["coverage"] is None
    assert set(res.exclusions["stage"]) == {"household_features"}


def test_a_household_with_readings_but_no_register_row_is_excluded_with_what_to_add(built):
    """Not silently dropped: a household whose readings reached the features but that ingest.households
    lacks (no register line, no group in its files) is listed as not_in_register, with the line to add."""
    baseline, treatment, res = built
    register = pl.concat(
        [
            res.features.select("household_id", "tariff_group", "acorn", "acorn_group"),
            pl.DataFrame({"household_id": ["T3"], "tariff_group": ["ToU"]}),
        ],
        how="diagonal",
    )
    without_c1 = register.filter(pl.col("household_id") != "C1")
    again = build_household_features(baseline, treatment, without_c1, trial_settings())
    assert "C1" not in again.features["household_id"].to_list()
    row = row_of(again.exclusions, "C1")
    assert row["reason"] == "not_in_register" and row["lifestyle_window"] is None
    assert "add a line 'C1,<Std|ToU>,<Acorn>,<Acorn_grouped>' to the register" in row["detail"]
    assert again.exclusions.filter(pl.col("reason") == "not_in_register")["household_id"].to_list() == ["C1"]
