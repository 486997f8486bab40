"""The response model for never-treated households: judged on held-out households' realised kW against
ranking by peak load, with corrected repeated-CV intervals and a permutation null; shipped only where it wins."""

import numpy as np
import polars as pl
import pytest

from assets.model import response_model as rm
from assets.model.settings import DEFAULT_LIFESTYLE_FEATURES, SegmentationSettings

GROUPS = ["Adversity", "Affluent", "Comfortable"]
SETTINGS = SegmentationSettings(response_permutations=100)


def _measured(signal: float, n: int = 60, seed: int = 1) -> pl.DataFrame:
    """Planted: the evening reduction (%) follows evening_share with weight ``signal``, plus noise; the load
    varies independently, so ranking by load alone captures kW only through the load."""
    rng = np.random.default_rng(seed)
    cols = {c: rng.normal(size=n) for c in DEFAULT_LIFESTYLE_FEATURES}
    reduction = 5 + signal * 6 * cols["evening_share"] + rng.normal(scale=3.0, size=n)
    return pl.DataFrame(
        {
            "household_id": [f"H{i:03d}" for i in range(n)],
            **cols,
            "acorn_group": rng.choice(GROUPS, n),
            "segment": rng.integers(0, 3, n),
            "is_textbook_top": rng.random(n) < 0.4,
            "peak_load_kw": rng.uniform(0.3, 1.5, n),
            "reduction_pct": reduction,
            "responded": reduction > np.median(reduction),
        }
    )


def _row(out: rm.ResponseModelScores, method: str, metric: str) -> dict:
    rows = out.scores.filter((pl.col("method") == method) & (pl.col("metric") == metric))
    assert rows.height == 1, (method, metric)
    return rows.row(0, named=True)


def test_the_comparator_table_scores_every_rule_against_peak_load():
    out = rm.cross_validate(_measured(signal=1.0), SETTINGS, GROUPS)
    methods = set(out.scores["method"].to_list())
    assert {rm.MODEL, rm.SEGMENT_PRIOR, rm.TEXTBOOK, rm.PEAK_LOAD_RULE} <= methods
    for method in (rm.MODEL, rm.SEGMENT_PRIOR, rm.TEXTBOOK):
        gain = _row(out, method, rm.SPEARMAN_GAIN)
        assert gain["ci_low"] <= gain["estimate"] <= gain["ci_high"] and gain["p_value"] is not None
        assert gain["interval_basis"] == rm.BASIS_CORRECTED
    assert _row(out, rm.PEAK_LOAD_RULE, rm.SPEARMAN)["estimate"] is not None
    # the capture curve has all four rules, each counting every held-out household once
    curve = rm.capture_curve(out.oof)
    assert set(curve["rule"].unique()) == set(rm.CURVE_RULES)
    ends = curve.group_by("rule").agg(pl.col("cumulative_kw").last())["cumulative_kw"].to_numpy()
    assert np.allclose(ends, ends[0])


def test_a_planted_signal_is_found_and_vanishes_when_the_responses_are_shuffled():
    data = _measured(signal=1.0)
    out = rm.cross_validate(data, SETTINGS, GROUPS)
    gain = _row(out, rm.MODEL, rm.SPEARMAN_GAIN)
    null = _row(out, rm.MODEL, f"{rm.SPEARMAN_GAIN}_null")
    print(f"planted: gain {gain['estimate']:+.3f} ({gain['ci_low']:+.3f}..{gain['ci_high']:+.3f}), p {gain['p_value']}")
    print(f"null range {null['ci_low']:+.3f}..{null['ci_high']:+.3f}")
    assert gain["ci_low"] > 0 and gain["p_value"] < 0.05
    assert null["ci_low"] <= 0 <= null["ci_high"] and gain["estimate"] > null["ci_high"]
    assert out.use_model and out.family in SETTINGS.response_families and "better than peak load" in out.verdict
    # the same households with their responses shuffled: the gain vanishes
    perm = np.random.default_rng(7).permutation(data.height)
    shuffled = data.with_columns(
        pl.Series("reduction_pct", data["reduction_pct"].to_numpy()[perm]),
        pl.Series("responded", data["responded"].to_numpy()[perm]),
    )
    flat = rm.cross_validate(shuffled, SETTINGS, GROUPS)
    g0 = _row(flat, rm.MODEL, rm.SPEARMAN_GAIN)
    print(f"shuffled: gain {g0['estimate']:+.3f} ({g0['ci_low']:+.3f}..{g0['ci_high']:+.3f}), p {g0['p_value']}")
    assert g0["ci_low"] <= 0 and g0["p_value"] > 0.05
    assert not flat.use_model and rm.CANNOT_TELL in flat.verdict


def test_model_without_signal_is_not_used_and_the_report_says_so():
    out = rm.cross_validate(_measured(signal=0.0), SETTINGS, GROUPS)
    assert not out.use_model and rm.CANNOT_TELL in out.verdict
    few = rm.cross_validate(_measured(signal=1.0, n=6), SETTINGS, GROUPS)
    assert not few.use_model and "too few" in few.verdict and few.family is None


def test_the_family_is_chosen_by_held_out_gain_and_the_fit_predicts_with_it():
    """Stated rule: the candidate family with the highest held-out gain in rank correlation over peak load."""
    out = rm.cross_validate(_measured(signal=1.0), SETTINGS, GROUPS)
    gains = {f: _row(out, rm.CANDIDATE.format(f), rm.SPEARMAN_GAIN)["estimate"] for f in SETTINGS.response_families}
    assert out.family == max(gains, key=gains.get)
    data = _measured(signal=1.0)
    pred = rm.fit_predict(data, data.head(10), SETTINGS, GROUPS, out.family)
    assert pred.shape == (10,) and np.isfinite(pred).all()
    with pytest.raises(ValueError, match="response_families"):
        SegmentationSettings(response_families=("forest",))


def test_precision_weights_follow_the_measurement_error_and_the_true_spread():
    """1 / (se^2 + tau^2), tau^2 the DerSimonian-Laird between-household variance, normalised to mean 1."""
    rng = np.random.default_rng(3)
    y = rng.normal(5, 3, 40)
    assert np.allclose(rm.precision_weights(y, np.full(40, 2.0)), 1.0)  # equal errors: equal weights
    assert np.allclose(rm.precision_weights(y, None), 1.0)
    assert np.allclose(rm.precision_weights(y, np.full(40, np.nan)), 1.0)
    se = np.where(np.arange(40) < 20, 1.0, 10.0)
    w = rm.precision_weights(y, se)
    assert w[:20].min() > 3 * w[20:].max() and np.isclose(w.mean(), 1.0)
    # a true spread much larger than both errors: the households count almost equally
    wide = rm.precision_weights(rng.normal(0, 100, 40), se)
    assert wide.max() / wide.min() < 1.05
    # an unknown SE counts as the median one
    se_missing = se.copy()
    se_missing[0] = np.nan
    w = rm.precision_weights(y, se_missing)
    assert np.isclose(w[0], w[19]) or np.isclose(w[0], w[20])


def test_households_measured_precisely_outweigh_noisy_ones():
    """Planted: 40 households measured precisely (SE 0.5) whose reduction rises with evening_share, 12 measured
    badly (SE 30) whose noise happens to run the other way. Weighted by their SEs the model keeps the precise
    slope; without the SEs (equal weights) the noisy ones drag it."""
    rng = np.random.default_rng(11)
    n_good, n_bad = 40, 12
    n = n_good + n_bad
    cols = {c: rng.normal(scale=0.1, size=n) for c in DEFAULT_LIFESTYLE_FEATURES}
    x = np.concatenate([np.linspace(-1, 1, n_good), np.linspace(-1, 1, n_bad)])
    cols["evening_share"] = x
    reduction = np.where(np.arange(n) < n_good, 6 + 3 * x, 6 - 30 * x)
    data = pl.DataFrame(
        {
            "household_id": [f"H{i:03d}" for i in range(n)],
            **cols,
            "acorn_group": ["Comfortable"] * n,
            "reduction_pct": reduction,
            rm.SE_COLUMN: np.where(np.arange(n) < n_good, 0.5, 30.0),
            "responded": reduction > 6,
        }
    )
    probe = pl.DataFrame({**{c: [0.0, 0.0] for c in DEFAULT_LIFESTYLE_FEATURES}, "acorn_group": ["Comfortable"] * 2})
    probe = probe.with_columns(pl.Series("evening_share", [-1.0, 1.0]))
    weighted = rm.fit_predict(data, probe, SETTINGS, GROUPS, "ridge")
    unweighted = rm.fit_predict(data.drop(rm.SE_COLUMN), probe, SETTINGS, GROUPS, "ridge")
    slope_w, slope_u = (weighted[1] - weighted[0]) / 2, (unweighted[1] - unweighted[0]) / 2
    print(f"slope per unit evening_share: weighted {slope_w:+.2f}, unweighted {slope_u:+.2f} (precise truth +3)")
    assert 2.0 < slope_w < 3.5 and slope_u < 0.0


def test_rank_correlation_is_spearmans_rho_with_ties():
    from scipy.stats import spearmanr

    rng = np.random.default_rng(3)
    for _ in range(20):
        a = rng.integers(0, 6, 40).astype(float)  # many ties
        b = a + rng.normal(0, 2, 40)
        assert rm._rank_correlation(rm._ranks(a), rm._ranks(b)) == pytest.approx(spearmanr(a, b).statistic, abs=1e-12)
    assert not rm._rankable(np.ones(5)) and not rm._rankable(np.arange(2.0))
    assert not rm._rankable(np.array([1.0, np.nan, 3.0, 4.0]))  # a NaN is never ranked as the top
    assert rm._rankable(np.arange(3.0))


def test_segment_prior_shrinks_each_segment_to_the_fold_mean():
    from assets.model.responsiveness import segment_prior_strength

    rng = np.random.default_rng(4)
    train_seg = rng.integers(0, 4, 60).astype(np.int32)
    train_y = rng.normal(train_seg * 3.0, 2.0)
    seg = np.array([0, 1, 2, 3, 7], dtype=np.int32)  # segment 7 has no training member
    n0, mean = segment_prior_strength(train_y, train_seg), train_y.mean()
    expected = [
        (train_y[train_seg == s].sum() + n0 * mean) / ((train_seg == s).sum() + n0) if s in train_seg else mean
        for s in seg
    ]
    assert np.isfinite(n0)
    np.testing.assert_allclose(rm._segment_prior(train_y, train_seg, seg), expected, rtol=1e-12)
