"""The measurement issue: pre-period matching and balance, household event-bootstrap SEs, cross-fitting,
the adjacent-day sensitivity and the season breakdown (each test can fail on a wrong implementation)."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import polars as pl
import pytest

from assets.features.crossfit import cross_fit, event_folds
from assets.features.local_time import local_grid
from assets.features.matching import covariate_balance, match_controls
from assets.features.schedule import build_event_schedule, load_schedule
from assets.features.settings import FeatureSettings
from assets.features.uncertainty import household_event_bootstrap
from assets.model.responsiveness import estimate_household_response, fit_response_prior
from assets.model.settings import SegmentationSettings
from tests.features.feature_fixtures import Event, trial_builder, trial_settings

S = FeatureSettings(household_bootstrap_replicates=2000, fdr_alpha=0.10)


def _rows(household: str, did: np.ndarray, blocks: np.ndarray, ref: float = 0.5) -> pl.DataFrame:
    n = did.size
    return pl.DataFrame(
        {
            "household_id": [household] * n,
            "event_id": np.arange(n, dtype=np.int32),
            "block_id": blocks.astype(np.int32),
            "n_half_hours": np.full(n, 6, dtype=np.int32),
            "did_kwh": did,
            "ref_kwh": np.full(n, ref),
        }
    )


def test_household_se_is_the_block_bootstrap_of_its_own_events():
    rng = np.random.default_rng(1)
    did = rng.normal(-0.05, 0.04, 40)
    out = household_event_bootstrap(_rows("a", did, np.arange(40)), S).row(0, named=True)
    # one event per block, equal weights: the bootstrap SE of a mean, sd * sqrt((n-1)/n) / sqrt(n), over ref
    expected = did.std(ddof=0) / np.sqrt(40) / 0.5
    assert out["high_did_pct_se"] == pytest.approx(expected, rel=0.08)
    assert out["high_did_pct_ci_low"] < did.mean() / 0.5 < out["high_did_pct_ci_high"]
    assert out["high_bootstrap_blocks"] == 40


def test_events_sharing_reference_days_are_resampled_together():
    # pairs of events in one block with the same error (a shared reference day): resampling events one
    # by one would treat 40 correlated events as 40 independent ones and understate the SE by ~sqrt(2)
    rng = np.random.default_rng(2)
    did = np.repeat(rng.normal(0.0, 0.04, 20), 2)
    blocked = household_event_bootstrap(_rows("a", did, np.repeat(np.arange(20), 2)), S)["high_did_pct_se"][0]
    naive = household_event_bootstrap(_rows("a", did, np.arange(40)), S)["high_did_pct_se"][0]
    assert blocked / naive == pytest.approx(np.sqrt(2), rel=0.12)


def test_single_block_has_no_se_and_large_estimates_are_not_clipped():
    one = household_event_bootstrap(_rows("a", np.array([-0.4, -0.38]), np.array([3, 3])), S)
    assert one["high_did_pct_se"][0] is None
    # -76.5 % with a tight bootstrap: the model keeps the estimate and the SE as measured
    did = np.full(30, -0.3825) + np.random.default_rng(3).normal(0, 0.01, 30)
    boot = household_event_bootstrap(_rows("b", did, np.arange(30)), S)
    frame = pl.DataFrame(
        {
            "household_id": ["b", "c", "d"],
            "is_treated": [True, True, True],
            "response_method": ["within_window_did"] * 3,
            "high_did_pct": [float(did.mean() / 0.5), -0.05, 0.001],
            "high_p_value": [0.001, 0.2, 0.5],
            "responder": [True, False, False],
            "high_t_stat": [-50.0, -1.0, 0.001],
            "high_did_pct_se": [boot["high_did_pct_se"][0], 0.03, 0.02],
        }
    )
    s = SegmentationSettings()
    r = estimate_household_response(frame, fit_response_prior(frame, s), s)
    assert r["high_reduction_pct"][0] == pytest.approx(-100 * did.mean() / 0.5)  # ~76.5, above the old 60 cap
    assert r["high_reduction_se"].to_list() == pytest.approx(
        [100 * boot["high_did_pct_se"][0], 3.0, 2.0]
    )  # not |est / t| (which gives 0.0002 % for c and 100 % for d)


def _population(n_treated: int, n_controls: int, n_events: int, effect: np.ndarray, seed: int):
    rng = np.random.default_rng(seed)
    ids = [f"T{i:03d}" for i in range(n_treated)] + [f"C{i:03d}" for i in range(n_controls)]
    groups = ["ToU"] * n_treated + ["Std"] * n_controls
    true = np.concatenate([effect, np.zeros(n_controls)])
    did = true[:, None] + rng.normal(0.0, 0.05, (len(ids), n_events))
    rows = pl.DataFrame(
        {
            "household_id": np.repeat(ids, n_events),
            "event_id": np.tile(np.arange(n_events, dtype=np.int32), len(ids)),
            "block_id": np.tile(np.arange(n_events, dtype=np.int32), len(ids)),
            "n_half_hours": np.full(len(ids) * n_events, 6, dtype=np.int32),
            "did_kwh": did.ravel(),
            "ref_kwh": np.full(len(ids) * n_events, 0.5),
        }
    )
    events = pl.DataFrame(
        {
            "event_id": np.arange(n_events, dtype=np.int32),
            "band": ["High"] * n_events,
            "event_start_utc": [datetime(2013, 1, 1 + i % 28, 17) for i in range(n_events)],
        }
    )
    return rows, events, pl.DataFrame({"household_id": ids, "tariff_group": groups})


def test_event_folds_alternate_in_start_order():
    _, events, _ = _population(1, 1, 10, np.zeros(1), 0)
    folds = event_folds(events).join(events, on="event_id").sort("event_start_utc")
    assert folds["fold"].to_list()[:4] == [0, 1, 0, 1] or folds["fold"].to_list()[:4] == [1, 0, 1, 0]
    assert folds["fold"].sum() == 5


def test_cross_fitting_removes_the_winners_curse():
    # small true effects: the households flagged on the same events are the lucky ones
    effect = np.random.default_rng(4).uniform(-0.03, 0.0, 150)
    rows, events, tariff = _population(150, 300, 20, effect, seed=5)
    cf = cross_fit(rows, events, tariff, S)
    ref = 0.5
    truth = pl.DataFrame({"household_id": tariff["household_id"][:150], "true": effect / ref})

    def pooled(r):
        return float((r["did_kwh"] * r["n_half_hours"]).sum() / (r["ref_kwh"] * r["n_half_hours"]).sum())

    sel = cf.heldout_rows.select("household_id", "selected_on").unique().join(truth, on="household_id")
    true_mean = float(sel["true"].mean())
    in_sample, heldout = pooled(cf.in_sample_rows), pooled(cf.heldout_rows)
    assert cf.heldout_rows.height > 0
    assert in_sample < true_mean - 0.02  # selection inflates the in-sample effect
    assert abs(heldout - true_mean) < 0.01  # the held-out events do not know who was selected
    hh = cf.households.filter(pl.col("crossfit_folds_flagged") > 0)
    assert hh["high_did_pct_heldout"].null_count() == 0
    assert cf.households.filter(pl.col("household_id").str.starts_with("C"))["crossfit_folds_flagged"].sum() == 0


def test_matching_uses_only_pre_period_profiles_and_reports_balance():
    rng = np.random.default_rng(6)
    n_c, n_t = 200, 40
    shape_cols = [f"shape_s{i:02d}" for i in range(48)]
    level = np.concatenate([rng.normal(0.2, 0.05, n_c), rng.normal(0.28, 0.05, n_t)]).clip(0.05)
    profiles = pl.DataFrame(
        {"household_id": [f"C{i}" for i in range(n_c)] + [f"T{i}" for i in range(n_t)], "mean_kwh_per_half_hour": level}
    ).with_columns([pl.lit(1.0).alias(c) for c in shape_cols])
    households = profiles.select(
        "household_id",
        tariff_group=pl.when(pl.col("household_id").str.starts_with("T")).then(pl.lit("ToU")).otherwise(pl.lit("Std")),
    )
    # U1 has no pre-period profile: no pairs (the fallback design), never matched on trial-year data
    s = FeatureSettings(n_matched_controls=5)
    pairs = match_controls(
        profiles, pl.concat([households, pl.DataFrame({"household_id": ["U1"], "tariff_group": ["ToU"]})]), s
    )
    assert "U1" not in pairs["household_id"].to_list()
    bal = (
        covariate_balance(profiles, households, pairs, s)
        .filter(pl.col("covariate") == "ln_mean_kwh")
        .row(0, named=True)
    )
    sd = np.sqrt((np.log(level[n_c:] + 0.01).var(ddof=1) + np.log(level[:n_c] + 0.01).var(ddof=1)) / 2)
    assert bal["smd_unmatched"] == pytest.approx(
        (np.log(level[n_c:] + 0.01).mean() - np.log(level[:n_c] + 0.01).mean()) / sd
    )
    assert bal["smd_unmatched"] > 0.8  # the treated are heavier users ...
    assert abs(bal["smd_matched"]) < 0.1 and bal["balanced"]  # ... and matching balances them
    assert bal["n_treated"] == n_t


def test_reference_days_next_to_events_are_excluded_in_the_sensitivity_run():
    events = [Event(datetime(2013, 2, 6, 17), 6, "High")]  # a Wednesday
    con = trial_builder(events).build()
    for n_adj, expected in ((0, True), (1, False)):
        s = trial_settings(reference_exclude_adjacent_days=n_adj)
        grid = build_event_schedule(load_schedule(con, s), local_grid(s.treatment_start, s.treatment_end, s), s).grid
        days = grid.group_by("local_date").agg(pl.col("ref_eligible").first())
        ok = dict(zip(days["local_date"], days["ref_eligible"], strict=True))
        assert ok[date(2013, 2, 6)] is False
        assert ok[date(2013, 2, 5)] is expected and ok[date(2013, 2, 7)] is expected
        assert ok[date(2013, 2, 8)] is True and ok[date(2013, 2, 4)] is True


def test_summary_checks_read_the_all_events_primary_row():
    from assets.features.response_checks import high_effect_negative, placebo_covers_zero

    base = {"band": "High", "window_kind": "event", "start_bucket": "all", "n_households": 3, "n_events": 9}
    rows = [
        # a season row and a within-method row first: the checks must not pick them up
        {**base, "analysis": "treatment", "season": "winter", "method": "primary", "effect_pct": 0.1,
         "ci_low_pct": 0.05, "ci_high_pct": 0.2},
        {**base, "analysis": "treatment", "season": "all", "method": "within", "effect_pct": 0.1,
         "ci_low_pct": 0.05, "ci_high_pct": 0.2},
        {**base, "analysis": "treatment", "season": "all", "method": "primary", "effect_pct": -0.07,
         "ci_low_pct": -0.1, "ci_high_pct": -0.02},
        {**base, "analysis": "placebo", "season": "all", "method": "within", "effect_pct": 0.3,
         "ci_low_pct": 0.1, "ci_high_pct": 0.5},
    ]  # fmt: skip
    effects = pl.DataFrame(rows)
    assert high_effect_negative(effects)[0] is True
    assert placebo_covers_zero(effects)[0] is False
