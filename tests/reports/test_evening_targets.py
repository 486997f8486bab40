"""Expected kW at the winter evening peak: evening-event responses x winter weekday peak load, with an
interval on every kW; the response model sees pre-period lifestyle features only."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from assets.features.settings import FeatureSettings
from assets.model import response_model as rm
from assets.model.cluster_model import household_response
from assets.model.settings import DEFAULT_LIFESTYLE_FEATURES, SegmentationSettings
from assets.reports import api as report_api
from assets.reports.expected_kw import (
    ALL_EVENTS_BASIS,
    ALL_EVENTS_ONLY_BASIS,
    EVENING_BASIS,
    NO_RESPONSE,
    PROGRAM_EVIDENCE,
    evening_response,
    response_model_inputs,
)


def test_response_model_features_are_pre_period_lifestyle_features():
    rm.check_pre_period(DEFAULT_LIFESTYLE_FEATURES)
    rm.check_pre_period(SegmentationSettings().lifestyle_features)
    # a response, coverage or treatment-year column must never be a predictor
    for bad in ("high_did_pct", "responder", "coverage", "treatment_coverage", "high_did_pct_evening"):
        with pytest.raises(ValueError, match="pre-period"):
            rm.check_pre_period([*DEFAULT_LIFESTYLE_FEATURES, bad])


def test_response_model_never_sees_a_trial_year_lifestyle(outputs):
    """Households whose lifestyle block is from the trial year (lifestyle_window
    'treatment_normal_days') are neither trained on nor predicted."""
    f, model, a = outputs["features"], outputs["model"], outputs["assignments"]
    treated = f.filter(pl.col("is_treated"))["household_id"].head(15).to_list()
    control = f.filter(~pl.col("is_treated"))["household_id"].head(15).to_list()
    moved = treated + control
    f2 = f.with_columns(
        pl.when(pl.col("household_id").is_in(moved))
        .then(pl.lit("treatment_normal_days"))
        .otherwise(pl.col("lifestyle_window"))
        .alias("lifestyle_window")
    )
    measured, others, _ = response_model_inputs(f2, a, household_response(f2, model), model)
    seen = set(measured["household_id"]) | set(others["household_id"])
    assert not seen & set(moved)
    assert set(treated) & set(household_response(f2, model).filter(pl.col("response_measured"))["household_id"])
    # ... and they fall back to their measured estimate / the offered program's ITT evidence in the target list
    e = report_api.compute_expectations(f2, a, model)
    assert e.filter(pl.col("household_id").is_in(control))["response_source"].unique().to_list() == [PROGRAM_EVIDENCE]


def _event_rows() -> pl.DataFrame:
    # A: primary 'within', evening events in 3 week blocks; its 'baseline' rows must be ignored.
    # B: no response method -> nothing. C: 'baseline_year_did', one block -> estimate but no SE.
    rows = [
        ("A", 1, "within", 1, 6, -0.10, 1.0),
        ("A", 2, "within", 1, 6, -0.20, 1.0),
        ("A", 3, "within", 2, 4, -0.05, 0.5),
        ("A", 4, "within", 3, 6, -0.30, 1.5),
        ("A", 1, "baseline", 1, 6, +0.50, 1.0),
        ("B", 1, "within", 1, 6, -0.40, 1.0),
        ("C", 1, "baseline", 7, 6, -0.06, 0.6),
        ("C", 2, "baseline", 7, 6, -0.12, 0.6),
    ]
    return pl.DataFrame(
        rows,
        schema={
            "household_id": pl.String,
            "event_id": pl.Int32,
            "method": pl.String,
            "block_id": pl.Int32,
            "n_half_hours": pl.Int32,
            "did_kwh": pl.Float64,
            "ref_kwh": pl.Float64,
        },
        orient="row",
    )


def test_evening_response_pools_the_primary_methods_evening_events():
    features = pl.DataFrame(
        {"household_id": ["A", "B", "C"], "response_method": ["within_window_did", "none", "baseline_year_did"]}
    )
    frame = evening_response(_event_rows(), features, FeatureSettings())
    out = {r["household_id"]: r for r in frame.iter_rows(named=True)}
    assert set(out) == {"A", "C"}
    n = np.array([6, 6, 4, 6])
    did = np.array([-0.10, -0.20, -0.05, -0.30])
    ref = np.array([1.0, 1.0, 0.5, 1.5])
    assert out["A"]["evening_did_pct"] == pytest.approx((n * did).sum() / (n * ref).sum())
    assert out["A"]["evening_events"] == 4
    assert out["A"]["evening_did_pct_se"] > 0
    assert out["C"]["evening_did_pct"] == pytest.approx(-0.18 / 1.2)
    assert out["C"]["evening_did_pct_se"] is None  # one week block: no bootstrap SE


def _with_evening(f: pl.DataFrame, factor: float) -> pl.DataFrame:
    """Evening estimates = factor x the all-event one (with its SE), winter peak load = 1.5 x peak kW;
    the first treated household has no evening event."""
    first = f.filter(pl.col("is_treated"))["household_id"][0]
    se = pl.col("high_did_pct").abs() * 0 + 0.03  # the synthetic estimates carry a 3 % SE
    return f.with_columns(
        pl.when(pl.col("household_id") == first)
        .then(None)
        .otherwise(pl.col("high_did_pct") * factor)
        .alias("evening_did_pct"),
        pl.when(pl.col("household_id") == first).then(None).otherwise(se).alias("evening_did_pct_se"),
        (pl.col("peak_kwh_per_half_hour") * 2 * 1.5).alias("winter_weekday_peak_kw"),
    ), first


def test_expected_kw_is_evening_response_times_winter_weekday_peak_with_intervals(outputs):
    f, model, a = outputs["features"], outputs["model"], outputs["assignments"]
    f2, first = _with_evening(f, 2.0)
    e = report_api.compute_expectations(f2, a, model).sort("household_id")
    base = outputs["expectations"].sort("household_id")
    # the load is the winter weekday peak
    assert e["peak_load_kw"].to_list() == pytest.approx((e["peak_kw"] * 1.5).to_list())
    assert (e["expected_kw_reduction"] - e["peak_load_kw"] * e["expected_reduction_pct"] / 100).abs().max() < 1e-12
    # measured households use their evening events (twice the all-event response here) ...
    m = e.filter(pl.col("response_measured"))
    assert (m.filter(pl.col("household_id") != first)["response_basis"] == EVENING_BASIS).all()
    assert m.filter(pl.col("household_id") == first)["response_basis"].to_list() == [ALL_EVENTS_BASIS]
    assert (
        m["expected_reduction_pct"].mean()
        > 1.5 * base.filter(pl.col("response_measured"))["expected_reduction_pct"].mean()
    )
    # ... and without evening rows everything is the all-event estimate (as before)
    assert (base.filter(pl.col("response_measured"))["response_basis"] == ALL_EVENTS_ONLY_BASIS).all()
    # every kW has an interval that holds it, and says what it is based on
    for lo, mid, hi in (
        ("expected_reduction_ci_low_pct", "expected_reduction_pct", "expected_reduction_ci_high_pct"),
        ("expected_kw_ci_low", "expected_kw_reduction", "expected_kw_ci_high"),
    ):
        assert e[lo].null_count() == e[hi].null_count() == 0
        assert ((e[lo] <= e[mid] + 1e-12) & (e[mid] <= e[hi] + 1e-12)).all()
    assert (e["expected_kw_ci_high"] > e["expected_kw_ci_low"]).mean() > 0.9
    assert e["interval_basis"].null_count() == 0 and e["peak_load_basis"].str.contains("winter weekday").all()


def test_measured_interval_is_the_empirical_bayes_posterior(outputs):
    """Shrunk estimate +- z sqrt(B) se; a household with a 10 x larger SE gets a wider interval."""
    f, model, a = outputs["features"], outputs["model"], outputs["assignments"]
    f2, first = _with_evening(f, 1.0)
    noisy = f2.filter(pl.col("is_treated") & (pl.col("household_id") != first))["household_id"][0]
    f3 = f2.with_columns(
        pl.when(pl.col("household_id") == noisy)
        .then(pl.col("evening_did_pct_se") * 10)
        .otherwise(pl.col("evening_did_pct_se"))
        .alias("evening_did_pct_se")
    )
    e2 = report_api.compute_expectations(f2, a, model).filter(pl.col("household_id") == noisy).row(0, named=True)
    e3 = report_api.compute_expectations(f3, a, model).filter(pl.col("household_id") == noisy).row(0, named=True)
    width = e3["expected_reduction_ci_high_pct"] - e3["expected_reduction_ci_low_pct"]
    assert width > e2["expected_reduction_ci_high_pct"] - e2["expected_reduction_ci_low_pct"]
    assert e3["interval_basis"].startswith("household's own events")


def test_evening_rows_are_read_from_the_event_table():
    """add_evening_response reads features.treatment_event_responses (evening High 'event' rows only)."""
    import duckdb

    from assets.reports.expected_kw import add_evening_response

    rows = _event_rows().with_columns(
        pl.lit("High").alias("band"), pl.lit("event").alias("kind"), pl.lit("evening").alias("start_bucket")
    )
    other = rows.with_columns(pl.lit("morning").alias("start_bucket"), (pl.col("did_kwh") * 0 + 9.0).alias("did_kwh"))
    rebound = rows.with_columns(pl.lit("rebound").alias("kind"), (pl.col("did_kwh") * 0 + 9.0).alias("did_kwh"))
    con = duckdb.connect()
    con.execute("CREATE SCHEMA features")
    con.register("event_rows", pl.concat([rows, other, rebound]))
    con.execute("CREATE TABLE features.treatment_event_responses AS SELECT * FROM event_rows")
    features = pl.DataFrame(
        {"household_id": ["A", "B", "C"], "response_method": ["within_window_did", "none", "baseline_year_did"]}
    )
    out = add_evening_response(con, features)
    assert out.columns == ["household_id", "response_method", "evening_did_pct", "evening_did_pct_se", "evening_events"]
    direct = evening_response(_event_rows(), features, FeatureSettings())
    assert out.filter(pl.col("household_id") == "A")["evening_did_pct"].to_list() == pytest.approx(
        direct.filter(pl.col("household_id") == "A")["evening_did_pct"].to_list()
    )
    assert out.filter(pl.col("household_id") == "B")["evening_did_pct"].to_list() == [None]
    con.close()


def test_without_measured_households_nothing_is_sized(feature_builder, fast_settings):
    """No measured household: the list keeps 'no response evidence' (empty kW, ranked by peak load)."""
    import dataclasses

    from assets.model.cluster_model import assign_segments, fit_cluster_model

    features, _ = feature_builder(n_per_archetype=15, archetypes=("evening", "flat"), treated_share=0.0, seed=5)
    s = dataclasses.replace(fast_settings, persona_k_max=4, k_max=5)
    model = fit_cluster_model(features, s)
    e = report_api.compute_expectations(features, assign_segments(features, model), model)
    assert (e["response_source"] == NO_RESPONSE).all()
    assert e["expected_kw_reduction"].null_count() == e.height


def test_acted_on_numbers_are_not_clipped(outputs):
    """A measured -76 % (tight SE) and a measured evening increase keep their signs and sizes: no cap at
    50 %, no floor at 0, never a zero-width interval, and the totals are the unclipped sums."""
    f, model, a = outputs["features"], outputs["model"], outputs["assignments"]
    f2, first = _with_evening(f, 1.0)
    treated = f2.filter(pl.col("is_treated") & (pl.col("household_id") != first))["household_id"].to_list()
    big, up = treated[0], treated[1]
    f3 = f2.with_columns(
        pl.when(pl.col("household_id") == big)
        .then(-0.76)
        .when(pl.col("household_id") == up)
        .then(0.08)
        .otherwise(pl.col("evening_did_pct"))
        .alias("evening_did_pct"),
        pl.when(pl.col("household_id").is_in([big, up]))
        .then(0.01)
        .otherwise(pl.col("evening_did_pct_se"))
        .alias("evening_did_pct_se"),
    )
    e = report_api.compute_expectations(f3, a, model)
    row = {r["household_id"]: r for r in e.filter(pl.col("household_id").is_in([big, up])).iter_rows(named=True)}
    assert row[big]["expected_reduction_pct"] > 50 and row[big]["expected_reduction_ci_high_pct"] > 50
    assert row[up]["expected_reduction_pct"] < 0 and row[up]["expected_kw_reduction"] < 0
    for r in row.values():
        assert r["expected_kw_ci_high"] - r["expected_kw_ci_low"] > 1e-6
    measured = e.filter(pl.col("response_measured"))
    assert (measured["expected_kw_ci_high"] > measured["expected_kw_ci_low"]).all()
    assert measured["expected_kw_reduction"].sum() == pytest.approx(
        (measured["peak_load_kw"] * measured["shrunk_pct"] / 100).sum()
    )
