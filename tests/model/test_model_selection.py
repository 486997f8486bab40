"""Behavioural model sweep: K-means vs GMM metrics, stability, choice rule."""

from __future__ import annotations

import dataclasses

import numpy as np
import polars as pl

from assets.model.behavioural import make_behaviour_pipeline
from assets.model.model_selection import (
    METRICS_SCHEMA,
    choose_behaviour_model,
    monte_carlo_se,
    rank_candidates,
)
from assets.model.stability import bootstrap_stability


def test_metrics_table_covers_both_families(fitted, fast_settings):
    model, _ = fitted
    m = model.behaviour_metrics
    assert set(m["model_family"]) == {"kmeans", "gmm"}
    assert sorted(m.filter(pl.col("model_family") == "gmm")["k"].to_list()) == list(range(2, 8))
    assert m.filter(pl.col("model_family") == "gmm")["bic"].null_count() == 0
    assert m.filter(pl.col("model_family") == "kmeans")["bic"].null_count() == 6
    assert m["stability_ari"].null_count() == 0
    chosen = m.filter((pl.col("model_family") == model.behaviour.family) & (pl.col("k") == model.behaviour.k))
    assert chosen["eligible"].to_list() == [True]
    assert model.behaviour.k == 5
    assert chosen["stability_ari"][0] > 0.9
    # planted data are well separated but not trivially (silhouette is in a sane range)
    assert 0.2 < chosen["silhouette"][0] < 0.95
    # the precision the replicate count buys: Monte Carlo SE of the mean ARI, in the metrics and the reason
    se = chosen["stability_ari_se"][0]
    assert se is not None and 0 <= se < 0.1
    assert f"Monte Carlo SE {se:.3f} over {fast_settings.n_bootstrap} subsamples" in model.behaviour_choice.reason


def test_monte_carlo_se_is_the_standard_error_of_the_replicate_mean():
    assert monte_carlo_se([0.5, 0.7, 0.9, 0.7]) == np.std([0.5, 0.7, 0.9, 0.7], ddof=1) / 2
    assert monte_carlo_se([0.8]) is None and monte_carlo_se([]) is None


def _metrics(rows):
    """Rows of (family, k, sil, db, ch, bic, inertia, ari, smallest, distinct, smallest share[, outlier
    clusters, outlier share]); without the last two, one small cluster is the outlier group when the smallest
    share is below 5 %."""
    full = [
        r if len(r) == 13 else (*r, *((1, r[10]) if r[10] is not None and r[10] < 0.05 else (0, 0.0))) for r in rows
    ]
    return pl.DataFrame(full, schema=METRICS_SCHEMA, orient="row")


def test_choice_rule_ranks_and_filters(fast_settings):
    s = dataclasses.replace(fast_settings, min_stability_ari=0.6, min_cluster_size=5, bic_delta=10.0)
    rows = [
        # family, k, sil, db, ch, bic, inertia, ari, smallest, distinct, smallest share (of 200 households)
        ("kmeans", 3, 0.30, 1.0, 100.0, None, 10.0, 0.9, 20, 3, 0.10),
        ("kmeans", 4, 0.35, 0.9, 120.0, None, 8.0, 0.9, 15, 4, 0.075),  # best on all three
        ("gmm", 4, 0.50, 0.5, 300.0, 1000.0, 8.0, 0.3, 15, 4, 0.075),  # unstable -> ineligible
        ("gmm", 5, 0.50, 0.5, 300.0, 1030.0, 8.0, 0.9, 15, 5, 0.075),  # BIC 30 worse than the best GMM -> ineligible
        ("gmm", 2, 0.60, 0.4, 400.0, 1001.0, 8.0, 0.9, 2, 2, 0.01),  # a cluster of 2 -> ineligible
    ]
    ranked = rank_candidates(_metrics(rows), s)
    assert ranked.filter(pl.col("eligible"))["k"].to_list() == [4, 3]
    choice = choose_behaviour_model(_metrics(rows), s)
    assert (choice.family, choice.k) == ("kmeans", 4)
    # ties on every metric: smaller K, then K-means before GMM
    tie = [
        ("gmm", 3, 0.3, 1.0, 100.0, 500.0, 1.0, 0.9, 20, 3, 0.1),
        ("kmeans", 3, 0.3, 1.0, 100.0, None, 1.0, 0.9, 20, 3, 0.1),
    ]
    choice = choose_behaviour_model(_metrics(tie), s)
    assert (choice.family, choice.k) == ("kmeans", 3)


def test_minimum_cluster_share_is_enforced_for_personas(fast_settings):
    """Every persona cluster holds >= 5 % of the households, except small clusters that together make an
    outlier group of <= max_outlier_share beside >= 2 main clusters (the load-shape rule): a tiny cluster beside
    a single main one, small clusters adding up to more than the outlier share, or an unmeasured share are
    not eligible, however good their metrics."""
    s = dataclasses.replace(fast_settings, min_cluster_size=5, min_cluster_share=0.05, max_outlier_share=0.05)
    rows = [
        ("kmeans", 2, 0.30, 1.0, 100.0, None, 10.0, 0.9, 60, 2, 0.30),
        ("gmm", 2, 0.70, 0.2, 500.0, 900.0, 8.0, 0.9, 6, 2, 0.03),  # best; 6 of 200 beside ONE main cluster
        ("kmeans", 5, 0.65, 0.3, 450.0, None, 8.0, 0.9, 8, 5, 0.04, 2, 0.08),  # two small clusters, 8 % together
        ("kmeans", 4, 0.59, 0.4, 390.0, None, 8.0, 0.9, 30, 4, None, None, None),  # share not measured
        ("kmeans", 3, 0.60, 0.4, 400.0, None, 8.0, 0.9, 6, 3, 0.03),  # 6 of 200 as an outlier group beside 2
    ]
    ranked = rank_candidates(_metrics(rows), s)
    assert sorted(ranked.filter(pl.col("eligible"))["k"].to_list()) == [2, 3]
    assert ranked.filter(pl.col("eligible"))["model_family"].unique().to_list() == ["kmeans"]
    assert choose_behaviour_model(_metrics(rows), s).k == 3


def test_behaviour_sweep_reports_the_smallest_share(fitted):
    model, _ = fitted
    m = model.behaviour_metrics
    assert m["smallest_share"].null_count() == 0
    n = model.n_households
    assert np.allclose(m["smallest_share"].to_numpy(), m["smallest_cluster"].to_numpy() / n)
    chosen = m.filter((pl.col("model_family") == model.behaviour.family) & (pl.col("k") == model.behaviour.k))
    assert chosen["smallest_share"][0] >= model.settings.min_cluster_share


def test_bootstrap_stability_is_seeded(synthetic, fast_settings):
    from assets.model.inputs import behaviour_matrix, prepare_features

    features, _ = synthetic
    x = behaviour_matrix(prepare_features(features), fast_settings)
    ref = make_behaviour_pipeline("kmeans", 5, fast_settings).fit(x).predict(x)
    a1, reps1 = bootstrap_stability(
        lambda seed: make_behaviour_pipeline("kmeans", 5, fast_settings, seed), x, ref, 3, 0.8, 1
    )
    a2, reps2 = bootstrap_stability(
        lambda seed: make_behaviour_pipeline("kmeans", 5, fast_settings, seed), x, ref, 3, 0.8, 1
    )
    assert reps1 == reps2 and len(reps1) == 3 and a1 == a2 > 0.95
    assert bootstrap_stability(lambda seed: None, x, ref, 0, 0.8, 1) == (None, [])
    # random labels are not stable
    noise = np.random.default_rng(0).normal(size=(120, 4))
    ref = make_behaviour_pipeline("kmeans", 6, fast_settings).fit(noise).predict(noise)
    a, _ = bootstrap_stability(
        lambda seed: make_behaviour_pipeline("kmeans", 6, fast_settings, seed), noise, ref, 3, 0.5, 1
    )
    assert a < 0.9
