"""Stage 2 statistics against scipy on constructed data with a known association."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import stats
from scipy.stats.contingency import association

from assets.model.persona_explanation import (
    adjust_p_values,
    chi_square_cramers_v,
    cliffs_delta,
    contingency_table,
    kruskal_epsilon_squared,
)


def _expand(table: np.ndarray) -> tuple[list[str], list[str]]:
    groups, cats = [], []
    for i, row in enumerate(table):
        for j, c in enumerate(row):
            groups += [f"g{i}"] * int(c)
            cats += [f"c{j}"] * int(c)
    return groups, cats


def test_chi_square_and_cramers_v_match_scipy():
    table = np.array([[30, 10, 5], [8, 25, 12], [4, 6, 40]])
    groups, cats = _expand(table)
    assert np.array_equal(contingency_table(groups, cats), table)
    r = chi_square_cramers_v(groups, cats)
    ref = stats.chi2_contingency(table, correction=False)
    assert r.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert r.dof == ref.dof == 4
    assert r.cramers_v == pytest.approx(association(table, method="cramer", correction=False), rel=1e-12)
    assert r.cramers_v == pytest.approx(np.sqrt(ref.statistic / (table.sum() * 2)), rel=1e-12)
    assert r.n == table.sum()
    # 2 x 2: still no Yates correction
    t2 = np.array([[20, 5], [6, 19]])
    g2, c2 = _expand(t2)
    r2 = chi_square_cramers_v(g2, c2)
    assert r2.statistic == pytest.approx(stats.chi2_contingency(t2, correction=False).statistic)
    # independence -> V = 0; a single category -> undefined
    g3, c3 = _expand(np.array([[10, 20], [10, 20]]))
    assert chi_square_cramers_v(g3, c3).cramers_v == pytest.approx(0.0, abs=1e-12)
    assert np.isnan(chi_square_cramers_v(["a", "b"], ["x", "x"]).statistic)


def test_kruskal_epsilon_squared_matches_scipy():
    rng = np.random.default_rng(0)
    a, b, c = rng.normal(0, 1, 40), rng.normal(1, 1, 35), rng.normal(2, 1, 25)
    values = np.concatenate([a, b, c, [np.nan]])
    groups = ["a"] * 40 + ["b"] * 35 + ["c"] * 25 + ["a"]
    r = kruskal_epsilon_squared(values, groups)
    ref = stats.kruskal(a, b, c)
    assert r.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    n = 100
    assert r.n == n and r.n_groups == 3
    assert r.epsilon_squared == pytest.approx(ref.statistic / (n - 1), rel=1e-12)
    assert r.epsilon_squared == pytest.approx(ref.statistic / ((n**2 - 1) / (n + 1)), rel=1e-12)
    assert np.isnan(kruskal_epsilon_squared([1.0, 1.0, 1.0, 1.0], ["a", "a", "b", "b"]).statistic)


def test_benjamini_hochberg_and_holm():
    p = np.array([0.01, 0.04, 0.03, 0.005, 0.20])
    bh = adjust_p_values(p, "bh")
    # hand: sorted 0.005,0.01,0.03,0.04,0.20 -> x5/1, x5/2, x5/3, x5/4, x5/5 = .025,.025,.05,.05,.2 (monotone)
    assert bh == pytest.approx([0.025, 0.05, 0.05, 0.025, 0.20])
    assert bh == pytest.approx(stats.false_discovery_control(p, method="bh"))
    holm = adjust_p_values(p, "holm")
    # hand: .005x5=.025, .01x4=.04, .03x3=.09, .04x2=.08->.09 (monotone), .2x1=.2
    assert holm == pytest.approx([0.04, 0.09, 0.09, 0.025, 0.20])
    with_nan = adjust_p_values([0.01, np.nan, 0.02], "bh")
    assert np.isnan(with_nan[1]) and with_nan[[0, 2]] == pytest.approx([0.02, 0.02])
    assert adjust_p_values([0.9, 0.95], "bh").max() <= 1.0
    with pytest.raises(ValueError):
        adjust_p_values(p, "bonferroni")


def test_cliffs_delta_by_hand():
    assert cliffs_delta([1, 2, 3], [1, 2]) == pytest.approx(1 / 3)
    assert cliffs_delta([5, 6], [1, 2]) == 1.0
    assert cliffs_delta([1, 2], [5, 6]) == -1.0


def test_persona_tests_on_synthetic(outputs):
    tests = outputs["personas"].tests
    contrasts = outputs["personas"].contrasts
    assert set(tests["feature"]) >= {"acorn_group", "acorn", "tariff_group", "evening_share", "night_share"}
    row = tests.filter(pl.col("feature") == "acorn_group").row(0, named=True)
    assert row["test"] in ("chi_square", "chi_square_permutation") and row["significant"]
    assert 0 < row["effect_size"] <= 1
    row = tests.filter(pl.col("feature") == "night_share").row(0, named=True)
    assert row["test"] == "kruskal_wallis" and row["effect_size"] > 0.5 and row["significant"]
    assert (tests["p_adjusted"] >= tests["p_value"] - 1e-15).all()
    night = outputs["personas"].personas.filter(pl.col("persona_name") == "night storage heating")["persona_id"][0]
    top = contrasts.filter((pl.col("persona_id") == night) & (pl.col("feature") == "night_share"))
    assert top["direction"][0] == "higher" and top["effect_size"][0] > 0.9


def test_sparse_table_gets_a_permutation_p_value():
    """16 levels x 3 groups with ~4 expected per cell: the asymptotic chi-square is not trusted (Cochran),
    the p-value comes from permutations; a dense table keeps the asymptotic one."""
    from scipy import stats

    from assets.model.persona_explanation import chi_square_cramers_v

    rng = np.random.default_rng(3)
    groups = rng.integers(0, 3, 200).astype(str)
    cats = rng.integers(0, 16, 200).astype(str)
    sparse = chi_square_cramers_v(groups, cats)
    assert sparse.test == "chi_square_permutation"
    table = np.array([[np.sum((groups == g) & (cats == c)) for c in np.unique(cats)] for g in np.unique(groups)])
    asymptotic = stats.chi2_contingency(table, correction=False).pvalue
    assert sparse.p_value != pytest.approx(asymptotic, abs=1e-12)
    assert chi_square_cramers_v(groups, cats).p_value == sparse.p_value  # seeded
    dense = chi_square_cramers_v(groups, rng.integers(0, 2, 200).astype(str))
    assert dense.test == "chi_square"


def test_acorn_is_tested_across_lifestyle_segments_not_personas(fast_settings):
    """Acorn is independent of the lifestyle segment, but the ToU households (all Affluent here) form the
    price-responsive persona: across personas Acorn would look 'explained' by ToU status."""
    from assets.model.persona_explanation import feature_tests

    rng = np.random.default_rng(0)
    n = 400
    tou = rng.random(n) < 0.25
    affluent = np.where(tou, True, rng.random(n) < 0.4)
    segment = np.zeros(n, dtype=np.int64)
    for t in (False, True):  # each segment gets half of every (ToU, Acorn) stratum: Acorn independent of segment
        for a in (False, True):
            idx = np.flatnonzero((tou == t) & (affluent == a))
            segment[idx] = np.arange(idx.size) % 2
    persona = np.where(tou & (segment == 0), "responsive", np.where(segment == 0, "seg0", "seg1"))
    frame = pl.DataFrame(
        {
            "segment": segment,
            "acorn_group": np.where(affluent, "Affluent", "Adversity"),
            "acorn": np.where(affluent, "ACORN-A", "ACORN-Q"),
            "tariff_group": np.where(tou, "ToU", "Std"),
        }
    )
    tests = feature_tests(frame, persona.tolist(), fast_settings)
    acorn = tests.filter(pl.col("feature") == "acorn_group").row(0, named=True)
    assert acorn["compared_across"] == "lifestyle_segments" and not acorn["significant"]
    assert acorn["p_value"] == pytest.approx(chi_square_cramers_v(segment, frame["acorn_group"]).p_value)
    # the same register field across personas picks up ToU status
    assert chi_square_cramers_v(persona, frame["acorn_group"]).p_value < 1e-6
    tariff = tests.filter(pl.col("feature") == "tariff_group").row(0, named=True)
    assert tariff["compared_across"] == "personas" and tariff["role"] == "descriptive"


def test_minimum_detectable_difference_has_the_stated_power():
    """At the stated difference a two-sided test at 5 % rejects in 80 % of simulated samples."""
    from scipy import stats

    from assets.model.persona_explanation import min_detectable_difference

    rng = np.random.default_rng(1)
    sizes = (120, 30)
    # two groups with a pooled within-group SD of exactly 8 points
    parts = [rng.normal(size=m) for m in sizes]
    parts = [(x - x.mean()) / np.sqrt(((x - x.mean()) ** 2).sum() / (x.size - 1)) * 8.0 for x in parts]
    mdd = min_detectable_difference(np.concatenate(parts), np.repeat(["a", "b"], sizes), alpha=0.05, power=0.8)
    assert mdd == pytest.approx((stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) * 8.0 * np.sqrt(1 / 120 + 1 / 30))
    rejected = 0
    for _ in range(2000):
        a, b = rng.normal(0, 8.0, sizes[0]), rng.normal(mdd, 8.0, sizes[1])
        rejected += stats.ttest_ind(a, b).pvalue < 0.05
    assert 0.74 < rejected / 2000 < 0.86
    # 28 vs 4 measured households (the real sample's two segments): about 12 points at an SD of 8
    small = min_detectable_difference(rng.normal(0, 8.0, 32), np.repeat(["a", "b"], (28, 4)), 0.05, 0.8)
    assert 8 < small < 18
    assert min_detectable_difference([1.0, 2.0, 3.0], ["a", "a", "b"], 0.05, 0.8) is None


def test_response_test_states_its_power(outputs):
    tests = outputs["personas"].tests
    row = tests.filter(pl.col("role") == "response_among_measured").row(0, named=True)
    assert row["compared_across"] == "lifestyle_segments"
    assert row["min_detectable_difference"] is not None and row["min_detectable_difference"] > 0
    from assets.model.persona_explanation import outside_explanation_sentence

    sentence = outside_explanation_sentence(tests)
    assert f"{row['min_detectable_difference']:.1f} percentage points" in sentence
    assert "80% power" in sentence
    assert tests.filter(pl.col("role") != "response_among_measured")["min_detectable_difference"].null_count() == (
        tests.height - 1
    )
