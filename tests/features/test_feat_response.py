"""Difference-in-differences on constructed trials: exact values, methods, windows, buckets, edge cases."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest

from assets.features.baseline_features import compute_baseline_features
from assets.features.treatment_features import compute_treatment_features
from tests.features.feature_fixtures import (
    CONTROL_LEVELS,
    TRIAL_EVENTS,
    mark_estimated,
    modify_readings,
    profile_values,
    trial_builder,
    trial_settings,
)

CONTROLS = list(CONTROL_LEVELS)
# local slots of the High events' half hours (all on weekdays)
HIGH_SLOTS = {1: list(range(34, 40)), 2: list(range(10, 16)), 3: list(range(22, 28)), 4: [46, 47, 0, 1, 2, 3]}
T2_FACTOR = {1: 0.8, 2: 0.7, 3: 0.8, 4: 0.8}


def row_of(frame: pl.DataFrame, household: str) -> dict:
    return frame.filter(pl.col("household_id") == household).row(0, named=True)


@pytest.fixture(scope="module")
def trial():
    con = trial_builder().build()
    modify_readings(con, ["T1"], factor=0.8, band="High")
    for event_id, factor in T2_FACTOR.items():
        modify_readings(con, ["T2"], factor=factor, band="High", event_ids=[event_id])
    modify_readings(con, ["T2"], factor=1.3, band="Low")
    assert modify_readings(con, ["T2"], factor=1.1, window="rebound") == 4 * 6
    assert modify_readings(con, ["T2"], factor=1.05, window="preload") == 4 * 6
    assert mark_estimated(con, "C5", event_id=1, kwh=5.0) == 6  # estimates never enter the response
    settings = trial_settings()
    baseline = compute_baseline_features(con, settings)
    return con, settings, baseline, compute_treatment_features(con, settings, baseline)


def test_did_exact_minus_20_percent_within_window(trial):
    _, _, _, res = trial
    t2 = row_of(res.features, "T2")
    w = np.array(profile_values(0.9))
    num = sum((T2_FACTOR[e] - 1) * w[HIGH_SLOTS[e]].sum() for e in HIGH_SLOTS)
    den = sum(w[HIGH_SLOTS[e]].sum() for e in HIGH_SLOTS)
    assert t2["response_method"] == "within_window_did" and t2["response_status"] == "ok"
    assert t2["n_high_events"] == 4 and t2["high_half_hours"] == 24
    assert t2["high_ref_kwh"] == pytest.approx(den / 24)
    assert t2["high_did_kwh"] == pytest.approx(num / 24)
    assert t2["high_did_pct"] == pytest.approx(num / den)
    for bucket in ("night", "afternoon", "evening"):
        assert t2[f"high_did_pct_{bucket}"] == pytest.approx(-0.20)
    assert t2["high_did_pct_morning"] == pytest.approx(-0.30)
    assert t2["high_did_kwh_morning"] == pytest.approx(-0.3 * w[HIGH_SLOTS[2]].mean())
    assert t2["low_did_pct"] == pytest.approx(0.30) and t2["n_low_events"] == 2
    assert t2["rebound_did_pct"] == pytest.approx(0.10)
    assert t2["preload_did_pct"] == pytest.approx(0.05)
    assert t2["high_did_pct_baseline"] is None  # no baseline-year data


def test_baseline_year_method_where_baseline_data(trial):
    _, _, _, res = trial
    t1 = row_of(res.features, "T1")
    assert t1["response_method"] == "baseline_year_did"
    assert t1["baseline_coverage"] == 1.0
    # 2013 load = 1.1 x 2012 and x 0.8 in High: vs 2012 it is 0.88 - 1 = -12 %, vs 2013 normal days -20 %
    assert t1["high_did_pct"] == pytest.approx(-0.12)
    assert t1["high_did_pct_baseline"] == pytest.approx(-0.12)
    assert t1["high_did_pct_within"] == pytest.approx(-0.20)
    assert t1["low_did_pct"] == pytest.approx(0.10)  # Low unchanged in 2013: +10 % on the year
    assert t1["rebound_did_pct"] == pytest.approx(0.10)


def test_prefer_within_window_setting(trial):
    con, _, baseline, _ = trial
    res = compute_treatment_features(con, trial_settings(prefer_baseline_year=False), baseline)
    t1 = row_of(res.features, "T1")
    assert t1["response_method"] == "within_window_did"
    assert t1["high_did_pct"] == pytest.approx(-0.20)


def test_controls_scored_as_if_treated_and_estimates_ignored(trial):
    _, _, _, res = trial
    f = res.features
    controls = f.filter(pl.col("tariff_group") == "Std")
    assert controls.height == 5
    np.testing.assert_allclose(controls["high_did_kwh"].to_numpy(), 0.0, atol=1e-12)
    np.testing.assert_allclose(controls["low_did_kwh"].to_numpy(), 0.0, atol=1e-12)
    assert not controls["responder"].any()
    c5 = row_of(f, "C5")
    assert c5["n_high_events"] == 3  # event 1 was estimated
    assert row_of(f, "C1")["n_high_events"] == 4
    # T2 has no baseline year: it is never matched on its (treated) trial year; it uses the stated
    # fallback, all controls at the same half hour (was: 5 controls matched on 2013 behaviour).
    assert row_of(f, "T2")["n_matched_controls"] == 0 and row_of(f, "T2")["comparison_design"] == "all_controls"
    assert row_of(f, "C1")["n_matched_controls"] == 4 and row_of(f, "C1")["comparison_design"] == "matched_pre_period"


def test_p_values_against_control_distribution(trial):
    _, _, _, res = trial
    f = res.features
    ctrl_t = f.filter(pl.col("tariff_group") == "Std")["high_t_stat"].to_numpy()
    for hid in ("T1", "T2"):
        r = row_of(f, hid)
        assert r["high_t_stat"] < -2
        assert r["high_p_value"] == pytest.approx((1 + (ctrl_t <= r["high_t_stat"]).sum()) / (1 + ctrl_t.size))
    # with 5 controls the smallest possible p is 1/6 > BH thresholds at FDR 0.10: no responder
    assert not f["responder"].any()


def test_household_without_event_readings(trial):
    _, _, _, res = trial
    t3 = row_of(res.features, "T3")
    assert t3["response_method"] == "none" and t3["response_status"] == "no_event_response"
    assert t3["high_did_kwh"] is None and t3["high_p_value"] is None and t3["responder"] is False
    assert t3["treatment_coverage"] == pytest.approx(7 / 56)


def test_event_level_rows(trial):
    _, _, _, res = trial
    ev = res.event_responses
    t2 = ev.filter((pl.col("household_id") == "T2") & (pl.col("kind") == "event") & (pl.col("band") == "High"))
    assert sorted(t2["event_id"]) == [1, 2, 3, 4]
    assert set(t2["method"]) == {"within"}
    assert dict(zip(t2["event_id"], t2["start_bucket"], strict=True)) == {
        1: "evening", 2: "morning", 3: "afternoon", 4: "night",
    }  # fmt: skip
    np.testing.assert_allclose(t2["control_change_kwh"].to_numpy(), 0.0, atol=1e-12)
    t1 = ev.filter(pl.col("household_id") == "T1")
    assert set(t1["method"]) == {"within", "baseline"}


def test_common_shock_is_differenced_out():
    """Everybody +0.1 kWh in event 1 (weather); T2 additionally -0.05 kWh in every High half hour."""
    con = trial_builder().build()
    modify_readings(con, [*CONTROLS, "T1", "T2"], add=0.1, band="High", event_ids=[1])
    modify_readings(con, ["T2"], add=-0.05, band="High")
    res = compute_treatment_features(con, trial_settings())
    t2 = row_of(res.features, "T2")
    assert t2["high_did_kwh"] == pytest.approx(-0.05)
    rows = res.event_responses.filter(
        (pl.col("household_id") == "T2") & (pl.col("kind") == "event") & (pl.col("band") == "High")
    )
    np.testing.assert_allclose(rows["did_kwh"].to_numpy(), -0.05)
    e1 = rows.filter(pl.col("event_id") == 1).row(0, named=True)
    assert e1["own_change_kwh"] == pytest.approx(0.05) and e1["control_change_kwh"] == pytest.approx(0.1)
    assert row_of(res.features, "T1")["high_did_pct_within"] == pytest.approx(0.0, abs=1e-12)


def test_all_controls_mode_matches_knn_on_identical_controls(trial):
    con, _, baseline, knn = trial
    res = compute_treatment_features(con, trial_settings(control_matching="all"), baseline)
    assert row_of(res.features, "T2")["high_did_pct"] == pytest.approx(row_of(knn.features, "T2")["high_did_pct"])
    assert row_of(res.features, "T2")["n_matched_controls"] == 0
    assert res.matched_controls.height == 0


def test_window_without_events_is_recorded_not_crashing():
    con = trial_builder(events=[]).build()
    res = compute_treatment_features(con, trial_settings())
    f = res.features
    assert f.height == 8
    assert set(f["response_status"]) == {"no_events_in_window"}
    assert set(f["response_method"]) == {"none"}
    assert f["high_did_kwh"].null_count() == f.height and f["high_p_value"].null_count() == f.height
    assert not f["responder"].any()
    assert res.event_responses.height == 0
    assert res.schedule.events.height == 0
    # every trial day is a normal day: the normal-day lifestyle covers the whole window
    assert row_of(res.normal_day_lifestyle, "T2")["coverage"] == 1.0


def test_matching_picks_nearest_controls_in_level_and_shape():
    from assets.features.matching import match_controls, matching_profiles
    from assets.features.settings import FeatureSettings

    shape = {f"shape_s{i:02d}": [1.0] * 5 for i in range(48)}
    prof = pl.DataFrame(
        {
            "household_id": ["A", "B", "C", "D", "T"],
            "mean_kwh_per_half_hour": [0.15, 0.2, 0.4, 0.8, 0.21],
            **shape,
        }
    )
    hh = pl.DataFrame({"household_id": ["A", "B", "C", "D", "T"], "tariff_group": ["Std"] * 4 + ["ToU"]})
    pairs = match_controls(matching_profiles(prof), hh, FeatureSettings(n_matched_controls=2))
    t = pairs.filter(pl.col("household_id") == "T").sort("rank")
    assert t["control_id"].to_list() == ["B", "A"]
    assert "A" not in pairs.filter(pl.col("household_id") == "A")["control_id"].to_list()


def test_events_dataclass_counts(trial):
    _, _, _, res = trial
    assert res.schedule.events.height == len(TRIAL_EVENTS)
    assert res.schedule.events.filter(pl.col("band") == "High").height == 4


def test_treatment_window_is_local_dates(trial):
    res = trial[3]
    assert row_of(res.features, "C1")["treatment_coverage"] == 1.0
    assert res.features["treatment_actual_half_hours"].max() == (date(2013, 3, 4) - date(2013, 1, 7)).days * 48
