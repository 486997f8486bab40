"""Population summary, placebo and responder recovery on constructed trials."""

from __future__ import annotations

import polars as pl
import pytest

from assets.features.placebo import compute_placebo_effect
from assets.features.response_summary import compute_tariff_response_summary
from assets.features.treatment_features import compute_treatment_features, read_households
from tests.features.feature_fixtures import modify_readings, noisy_trial_builder, trial_builder, trial_settings

RESPONDERS = {"R1": 0.8, "R2": 0.8, "R3": 0.85, "R4": 0.75}


@pytest.fixture(scope="module")
def noisy():
    builder, _ = noisy_trial_builder(n_controls=30, responders=RESPONDERS, n_null_treated=2)
    con = builder.build()
    for hid, factor in RESPONDERS.items():
        modify_readings(con, [hid], factor=factor, band="High")
    settings = trial_settings(bootstrap_replicates=300)
    treatment = compute_treatment_features(con, settings)
    return con, settings, treatment, compute_tariff_response_summary(con, treatment, settings)


def effect(summary, analysis="treatment", band="High", kind="event", bucket="all", season="all", method=None) -> dict:
    method = method or ("within" if analysis in ("placebo", "sensitivity_adjacent_days") else "primary")
    rows = summary.effects.filter(
        (pl.col("analysis") == analysis) & (pl.col("band") == band) & (pl.col("window_kind") == kind)
        & (pl.col("start_bucket") == bucket) & (pl.col("season") == season) & (pl.col("method") == method)
    )  # fmt: skip
    assert rows.height == 1
    return rows.row(0, named=True)


def test_population_effect_recovers_planted_response(noisy):
    summary = noisy[3]
    high = effect(summary)
    # 4 of 6 treated cut 15-25 %, 2 do nothing: about -13 % on average
    assert high["n_households"] == 6 and high["n_events"] == 12 and high["n_blocks"] == 6
    assert -0.20 < high["effect_pct"] < -0.08
    assert high["ci_low_pct"] < high["effect_pct"] < high["ci_high_pct"]
    assert high["ci_covers_zero"] is False
    assert effect(summary, bucket="evening")["effect_pct"] == pytest.approx(high["effect_pct"])
    assert effect(summary, bucket="morning")["n_events"] == 0
    assert effect(summary, band="Low")["note"] == "no event responses"
    rebound = effect(summary, kind="rebound")
    assert rebound["ci_covers_zero"] is True


def test_placebo_covers_zero(noisy):
    con, settings, treatment, summary = noisy
    placebo = effect(summary, analysis="placebo")
    assert placebo["n_households"] == 6 and placebo["n_events"] == 12
    assert placebo["ci_covers_zero"] is True
    assert abs(placebo["effect_pct"]) < 0.05
    direct = compute_placebo_effect(con, settings, read_households(con, settings), treatment.matched_controls)
    assert direct.effect_kwh == pytest.approx(placebo["effect_kwh"])
    assert summary.placebo.height == 2


def test_placebo_is_exactly_zero_without_noise():
    con = trial_builder().build()
    modify_readings(con, ["T1", "T2"], factor=0.8, band="High")  # a real response in 2013 only
    settings = trial_settings()
    treatment = compute_treatment_features(con, settings)
    summary = compute_tariff_response_summary(con, treatment, settings)
    placebo = effect(summary, analysis="placebo")
    assert placebo["n_households"] == 1  # only T1 has baseline-year readings
    assert placebo["effect_kwh"] == pytest.approx(0.0, abs=1e-12)
    assert placebo["ci_covers_zero"] is True
    assert effect(summary)["ci_covers_zero"] is False


def test_responders_flagged_by_bh(noisy):
    _, _, treatment, _ = noisy
    f = treatment.features
    flagged = set(f.filter(pl.col("responder"))["household_id"])
    # every planted responder is found; a null treated household may be a (chance) false discovery
    assert set(RESPONDERS) <= flagged <= {*RESPONDERS, "N0", "N1"}
    assert f.filter(pl.col("tariff_group") == "Std")["responder"].sum() == 0
    treated = f.filter(pl.col("tariff_group") == "ToU")
    assert treated.filter(pl.col("household_id").is_in(list(RESPONDERS)))["high_p_value"].max() == pytest.approx(1 / 31)
    for hid, factor in RESPONDERS.items():
        got = f.filter(pl.col("household_id") == hid)["high_did_pct"][0]
        assert got == pytest.approx(factor - 1.0, abs=0.05)


def test_responder_share_curve(noisy):
    _, settings, _, summary = noisy
    curve = summary.responder_curve
    assert curve.height == len(settings.responder_thresholds) + len(settings.fdr_curve_levels)
    by_pct = curve.filter(pl.col("criterion") == "high_did_pct_below").sort("threshold")
    assert by_pct["share_treated"].to_list() == sorted(by_pct["share_treated"].to_list(), reverse=True)
    at10 = by_pct.filter(pl.col("threshold") == 0.10).row(0, named=True)
    assert at10["n_treated"] == 6 and at10["share_treated"] == pytest.approx(4 / 6)
    assert at10["excess_share"] == pytest.approx(at10["share_treated"] - at10["share_control"])
    bh = curve.filter((pl.col("criterion") == "bh_fdr") & (pl.col("threshold") == 0.10)).row(0, named=True)
    # the control share is the pseudo-treated controls' mean share flagged over the placebo draws (BH over
    # the controls' own leave-one-out p-values would be 0 by construction): about 0, at most the FDR level
    assert bh["share_treated"] >= 4 / 6 and 0.0 <= bh["share_control"] <= 0.10


def test_summary_without_events_does_not_crash():
    con = trial_builder(events=[]).build()
    settings = trial_settings(bootstrap_replicates=20)
    treatment = compute_treatment_features(con, settings)
    summary = compute_tariff_response_summary(con, treatment, settings)
    # 10 original rows + Low by start bucket (4) + High/Low by season (8)
    # + cross-fitting (2) + within-method and +-1-day sensitivity (4)
    assert summary.effects.height == 28
    assert summary.effects["effect_kwh"].null_count() == 28
    assert set(summary.checks["verdict"]) == {"not run"} and summary.placebo_draws.height == 0
    assert set(summary.effects["note"].drop_nulls()) <= {
        "no event responses",
        "no treated household has baseline-window readings at placebo events",
    }
    assert summary.responder_curve.filter(pl.col("criterion") == "bh_fdr")["n_treated"].max() == 0
