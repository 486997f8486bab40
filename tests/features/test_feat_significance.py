"""Benjamini-Hochberg, empirical p-values, studentised scores and the event-block bootstrap."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from assets.features.bootstrap import population_effect
from assets.features.settings import FeatureSettings
from assets.features.significance import (
    benjamini_hochberg,
    empirical_p_values,
    studentised_score,
)

P_SORTED = [0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216]


@pytest.mark.parametrize(("alpha", "n_flagged"), [(0.05, 2), (0.10, 6), (0.01, 1), (0.0001, 0), (1.0, 10)])
def test_bh_flags_exactly_the_expected_households(alpha, n_flagged):
    rng = np.random.default_rng(7)
    order = rng.permutation(len(P_SORTED))
    p = np.array(P_SORTED)[order]
    flags = benjamini_hochberg(p, alpha)
    expected = np.array([i < n_flagged for i in range(len(P_SORTED))])[order]
    np.testing.assert_array_equal(flags, expected)


def test_bh_step_up_flags_p_values_above_their_own_threshold():
    # at alpha 0.10 the 3rd and 4th p-values (0.039 > 0.03, 0.041 > 0.04) are flagged because the 6th passes
    flags = benjamini_hochberg(np.array(P_SORTED), 0.10)
    assert flags[2] and flags[3] and flags[5] and not flags[6]


def test_bh_ignores_nan_and_does_not_count_them():
    p = np.array([0.01, np.nan, 0.02, np.nan])
    # m = 2: thresholds 0.025, 0.05 -> both flagged; NaN never flagged
    np.testing.assert_array_equal(benjamini_hochberg(p, 0.05), [True, False, True, False])
    assert not benjamini_hochberg(np.array([np.nan, np.nan]), 0.1).any()
    assert benjamini_hochberg(np.array([]), 0.1).size == 0


def _step_up(p: np.ndarray, alpha: float) -> np.ndarray:
    """The textbook step-up rule: flag the k smallest p-values, k = max{i : p_(i) <= alpha i / m}."""
    ok = np.flatnonzero(~np.isnan(p))
    flags = np.zeros(p.shape, dtype=bool)
    order = ok[np.argsort(p[ok], kind="stable")]
    passed = np.flatnonzero(p[order] <= alpha * np.arange(1, ok.size + 1) / max(ok.size, 1))
    if passed.size:
        flags[order[: passed.max() + 1]] = True
    return flags


@pytest.mark.parametrize("alpha", [0.01, 0.05, 0.10, 0.20, 0.30, 0.50])
def test_bh_equals_the_step_up_rule_on_empirical_p_values(alpha):
    """Empirical p-values (1 + a) / (1 + n) often sit exactly on a threshold: scipy's adjusted p-values
    must flag the same households as the step-up rule (responder flags must not move)."""
    rng = np.random.default_rng(11)
    for n_controls, m in [(185, 34), (32, 28), (19, 10), (9, 40)]:
        for _ in range(50):
            p = (1.0 + rng.integers(0, n_controls + 1, size=m)) / (1.0 + n_controls)
            p[rng.random(m) < 0.1] = np.nan
            np.testing.assert_array_equal(benjamini_hochberg(p, alpha), _step_up(p, alpha))


def test_empirical_p_values_leave_one_out():
    scores = np.array([0.0, 1.0, 2.0, 3.0, -1.0, 1.5, 5.0, np.nan])
    is_control = np.array([True, True, True, True, False, False, False, False])
    p = empirical_p_values(scores, is_control)
    np.testing.assert_allclose(p[4:7], [1 / 5, 3 / 5, 5 / 5])
    assert np.isnan(p[7])
    # controls: against the 3 other controls
    np.testing.assert_allclose(p[:4], [1 / 4, 2 / 4, 3 / 4, 4 / 4])


def test_empirical_p_without_controls_is_nan():
    assert np.isnan(empirical_p_values(np.array([1.0, 2.0]), np.array([False, False]))).all()


def test_studentised_score():
    rows = pl.DataFrame(
        {
            "household_id": ["a"] * 4 + ["b"] * 3 + ["c"] + ["d"] * 2,
            "did_kwh": [-1.0, -2.0, -3.0, -2.0, -0.5, -0.5, -0.5, 1.0, 0.0, 0.0],
        }
    )
    t = dict(studentised_score(rows).select("household_id", "t_stat").iter_rows())
    x = np.array([-1.0, -2.0, -3.0, -2.0])
    assert t["a"] == pytest.approx(x.mean() / (x.std(ddof=1) / 2))
    assert t["b"] == float("-inf")  # constant reduction
    assert t["c"] is None  # a single event
    assert t["d"] == 0.0


def _rows(did: dict[int, float], households=("h1", "h2"), block_of=lambda e: e) -> pl.DataFrame:
    data = [
        {
            "household_id": h,
            "event_id": e,
            "block_id": block_of(e),
            "n_half_hours": 6,
            "ref_kwh": 1.0,
            "did_kwh": v,
        }
        for h in households
        for e, v in did.items()
    ]
    return pl.DataFrame(data, schema_overrides={"event_id": pl.Int32, "block_id": pl.Int32, "n_half_hours": pl.Int32})


def test_bootstrap_constant_effect_has_degenerate_ci():
    eff = population_effect(_rows({1: -0.2, 2: -0.2, 3: -0.2}), FeatureSettings(bootstrap_replicates=50),
                            np.random.default_rng(0))  # fmt: skip
    assert eff.n_households == 2 and eff.n_events == 3 and eff.n_blocks == 3
    assert eff.effect_kwh == pytest.approx(-0.2) and eff.effect_pct == pytest.approx(-0.2)
    assert eff.ci_low_kwh == pytest.approx(-0.2) and eff.ci_high_kwh == pytest.approx(-0.2)
    assert eff.ci_covers_zero is False


def test_bootstrap_resamples_event_blocks_not_half_hours():
    # two blocks: events 1-2 (did -0.4) and 3-4 (did 0.0); every replicate mean lies in [-0.4, 0]
    rows = _rows({1: -0.4, 2: -0.4, 3: 0.0, 4: 0.0}, block_of=lambda e: 0 if e <= 2 else 1)
    s = FeatureSettings(bootstrap_replicates=400, bootstrap_households=False)
    eff = population_effect(rows, s, np.random.default_rng(1))
    assert eff.n_blocks == 2
    assert eff.effect_kwh == pytest.approx(-0.2)
    assert eff.ci_low_kwh == pytest.approx(-0.4) and eff.ci_high_kwh == pytest.approx(0.0)
    assert eff.ci_covers_zero is True


def test_bootstrap_pooled_pct_and_winsorised_mean():
    rows = pl.DataFrame(
        {
            "household_id": ["a", "b"],
            "event_id": [1, 1],
            "block_id": [1, 1],
            "n_half_hours": [2, 2],
            "ref_kwh": [1.0, 0.1],
            "did_kwh": [-0.1, -0.05],
        },
        schema_overrides={"event_id": pl.Int32, "block_id": pl.Int32, "n_half_hours": pl.Int32},
    )
    eff = population_effect(rows, FeatureSettings(bootstrap_replicates=10, winsor_quantiles=(0.0, 1.0)),
                            np.random.default_rng(0))  # fmt: skip
    assert eff.effect_kwh == pytest.approx(-0.075)
    assert eff.effect_pct == pytest.approx(-0.15 / 1.1)  # pooled, not the mean of -10 % and -50 %
    assert eff.mean_household_pct_winsorised == pytest.approx(-0.3)
    assert eff.note is not None  # a single block


def test_bootstrap_empty():
    empty = pl.DataFrame(
        schema={
            "household_id": pl.String,
            "event_id": pl.Int32,
            "block_id": pl.Int32,
            "n_half_hours": pl.Int32,
            "ref_kwh": pl.Float64,
            "did_kwh": pl.Float64,
        }
    )  # fmt: skip
    eff = population_effect(empty, FeatureSettings(), np.random.default_rng(0))
    assert eff.n_households == 0 and eff.effect_kwh is None and eff.ci_covers_zero is None


def test_two_way_bootstrap_widens_the_interval_for_household_noise():
    # households differ persistently (-0.4 vs 0.0) but every event looks alike: event blocks alone
    # see no uncertainty, the two-way bootstrap does
    rows = pl.concat([
        _rows({e: -0.4 for e in range(1, 9)}, households=("a",)),
        _rows({e: 0.0 for e in range(1, 9)}, households=("b",)),
    ])  # fmt: skip
    one_way = FeatureSettings(bootstrap_replicates=300, bootstrap_households=False)
    events_only = population_effect(rows, one_way, np.random.default_rng(3))
    assert events_only.ci_low_kwh == pytest.approx(-0.2) and events_only.ci_high_kwh == pytest.approx(-0.2)
    two_way = population_effect(rows, FeatureSettings(bootstrap_replicates=300), np.random.default_rng(3))
    assert two_way.ci_low_kwh == pytest.approx(-0.4) and two_way.ci_high_kwh == pytest.approx(0.0)
