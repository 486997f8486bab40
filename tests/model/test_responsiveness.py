"""Shrinkage of measured responses and priors for households without one."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import stats

from assets.model.responsiveness import (
    estimate_household_response,
    fit_response_prior,
    segment_prior_strength,
    segment_priors,
)
from assets.model.settings import SegmentationSettings


def _frame():
    return pl.DataFrame(
        {
            "household_id": ["a", "b", "c", "d", "e", "f"],
            "is_treated": [True, True, True, True, False, True],
            "response_method": [
                "baseline_year_did",
                "baseline_year_did",
                "within_window_did",
                "baseline_year_did",
                "none",
                "none",
            ],
            "high_did_pct": [-0.20, -0.02, 0.05, -0.10, None, None],
            "high_p_value": [0.001, 0.6, 0.5, None, None, None],
            "responder": [True, False, False, False, False, False],
        }
    )


def test_shrinkage_and_labels():
    s = SegmentationSettings()
    frame = _frame()
    prior = fit_response_prior(frame, s)
    est = np.array([20.0, 2.0, -5.0, 10.0])
    assert prior.n_measured == 4
    r = estimate_household_response(frame, prior, s)
    # DerSimonian-Laird by hand from the standard errors
    se_all = np.asarray(r["high_reduction_se"].to_list()[:4], dtype=float)
    w = np.where(np.isfinite(se_all), 1 / se_all**2, 0.0)
    ybar = np.sum(w * est) / w.sum()
    q = np.sum(w * (est - ybar) ** 2)
    tau2 = max((q - (np.count_nonzero(w) - 1)) / (w.sum() - np.sum(w**2) / w.sum()), 1e-6)
    ws = np.where(np.isfinite(se_all), 1 / (se_all**2 + tau2), 0.0)
    assert prior.tau2 == pytest.approx(tau2)
    assert prior.mean_pct == pytest.approx(np.sum(ws * est) / ws.sum())
    assert r["response_measured"].to_list() == [True, True, True, True, False, False]
    assert r["high_reduction_pct"].to_list()[:4] == pytest.approx(est.tolist())
    assert r["high_reduction_shrunk_pct"].null_count() == 2
    # standard error from the one-sided p-value: se = |est| / z(1 - p)
    assert r["high_reduction_se"][0] == pytest.approx(20.0 / stats.norm.isf(0.001))
    # the wrong direction (an increase, one-sided p = 0.5 here) gives |z| ~ 0: no information
    assert r["high_reduction_se"][2] > 1e6 or r["shrinkage_weight"][2] == pytest.approx(0.0, abs=1e-6)
    w = r["shrinkage_weight"].to_list()
    se = r["high_reduction_se"].to_list()
    # B = tau2 / (tau2 + se^2): the noisier the estimate, the more it is pulled to the mean
    assert w[:4] == pytest.approx([prior.tau2 / (prior.tau2 + x**2) for x in se[:4]])
    assert np.argsort(w[:4]).tolist() == np.argsort(-np.asarray(se[:4])).tolist()
    # no p-value: the spread of all estimates is the standard error (weak evidence)
    assert se[3] == pytest.approx(prior.fallback_se) and prior.fallback_se == pytest.approx(np.std(est, ddof=1))
    shrunk = r["high_reduction_shrunk_pct"].to_list()
    assert shrunk[1] == pytest.approx(prior.mean_pct + w[1] * (2.0 - prior.mean_pct))
    assert r["is_responsive"].to_list() == [True, False, False, False, False, False]
    # a control with a 'responder' flag would still not count: it has no measured response
    s2 = SegmentationSettings(responsive_rule="shrunk_reduction", responsive_min_reduction_pct=5.0)
    r2 = estimate_household_response(frame, prior, s2)
    assert r2["is_responsive"].to_list() == [x >= 5.0 for x in shrunk[:4]] + [False, False]


def test_did_percent_multiplier_and_t_stat():
    frame = _frame().with_columns(pl.col("high_did_pct") * 100.0)
    prior = fit_response_prior(frame, SegmentationSettings(did_pct_multiplier=1.0))
    assert prior == fit_response_prior(_frame(), SegmentationSettings())
    # a studentised t-statistic, when present, gives the standard error directly: se = |est / t|
    with_t = _frame().with_columns(pl.Series("high_t_stat", [-4.0, -0.5, None, float("-inf"), None, None]))
    s = SegmentationSettings()
    r = estimate_household_response(with_t, fit_response_prior(with_t, s), s)
    se = r["high_reduction_se"].to_list()
    assert se[0] == pytest.approx(20.0 / 4.0) and se[1] == pytest.approx(2.0 / 0.5)
    assert np.isinf(se[2])  # no t, one-sided p = 0.5: z = 0, no information
    assert se[3] == pytest.approx(10.0 / s.max_abs_t)  # |t| = inf is capped


def test_segment_prior_formula():
    s = SegmentationSettings()
    frame = _frame()
    prior = fit_response_prior(frame, s)
    r = estimate_household_response(frame, prior, s)
    segs = np.array([0, 0, 1, 1, 0, 1])
    p = segment_priors(r, segs, prior, s)
    sh = r["high_reduction_shrunk_pct"].to_list()
    measured = r["response_measured"].to_numpy()
    n0 = segment_prior_strength(np.asarray(sh, dtype=float)[measured], segs[measured])
    assert p[0]["prior_strength"] == n0
    assert p[0]["n_measured"] == 2 and p[0]["n_responsive"] == 1
    if np.isfinite(n0):
        assert p[0]["prior_pct"] == pytest.approx((sh[0] + sh[1] + n0 * prior.mean_pct) / (2.0 + n0))
        assert p[1]["prior_pct"] == pytest.approx((sh[2] + sh[3] + n0 * prior.mean_pct) / (2.0 + n0))
    else:
        assert p[0]["prior_pct"] == p[1]["prior_pct"] == pytest.approx(prior.mean_pct)


def test_segment_prior_strength_comes_from_the_data():
    """n0 = within / between variance by one-way random-effects ANOVA (no constant decides it): well separated
    segments get a weak pull (small n0), segments that differ by chance only get the global mean (inf)."""
    rng = np.random.default_rng(0)
    groups = np.repeat([0, 1, 2, 3], 25)
    means = np.array([0.0, 10.0, 20.0, 30.0])
    apart = means[groups] + rng.normal(0.0, 5.0, groups.size)
    n0 = segment_prior_strength(apart, groups)
    # between-segment variance ~ var(means) = 125 (ddof 1: 166.7), within 25: n0 ~ 25 / 167 ~ 0.15
    assert 0.05 < n0 < 0.4
    # exact ANOVA numbers on a small hand example: groups {1, 3} and {5, 7, 9}
    v, g = np.array([1.0, 3.0, 5.0, 7.0, 9.0]), np.array([0, 0, 1, 1, 1])
    msw = (2.0 + 8.0) / 3.0  # within sums of squares 2 + 8, N - S = 3
    msb = (2 * (2.0 - 5.0) ** 2 + 3 * (7.0 - 5.0) ** 2) / 1.0
    n_eff = 5.0 - (4 + 9) / 5.0
    assert segment_prior_strength(v, g) == pytest.approx(msw / ((msb - msw) / n_eff))
    assert segment_prior_strength(np.array([1.0, 2.0, 3.0]), np.array([0, 0, 0])) == float("inf")
    flat = np.array([1.0, 1.1, 0.9, 1.0, 1.05, 0.95])  # equal segment means: no real difference
    assert segment_prior_strength(flat, np.array([0, 0, 0, 1, 1, 1])) == float("inf")


def test_no_measured_household():
    frame = _frame().with_columns(pl.lit("none").alias("response_method"))
    prior = fit_response_prior(frame, SegmentationSettings())
    assert prior.n_measured == 0 and prior.mean_pct == 0.0
    r = estimate_household_response(frame, prior, SegmentationSettings())
    assert not r["response_measured"].any() and not r["is_responsive"].any()
