"""Load-shape (textbook) segmentation: archetype recovery, K sweep, chosen-K rule, scale invariance."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from sklearn.metrics import adjusted_rand_score

from assets.model.inputs import prepare_features, shape_matrix
from assets.model.load_shape import (
    choose_load_shape_k,
    elbow_k,
    fit_load_shape,
    make_load_shape_pipeline,
    sweep_load_shape_k,
)
from assets.model.settings import SHAPE_COLUMNS, SegmentationSettings


def test_recovers_planted_archetypes(fitted, synthetic):
    model, assignments = fitted
    _, truth = synthetic
    joined = assignments.join(truth, on="household_id")
    assert adjusted_rand_score(joined["archetype"], joined["load_shape_cluster"]) >= 0.8
    assert model.load_shape.k == 5
    # every planted archetype gets its rule-derived name
    names = joined.group_by("archetype").agg(pl.col("load_shape_name").mode().first())
    expected = {
        "evening": "evening peaker",
        "daytime": "daytime at home",
        "flat": "flat baseload",
        "night": "night storage heating",
        "double": "morning and evening double peak",
    }
    assert dict(names.iter_rows()) == expected


def test_k_sweep_curves(fitted, fast_settings):
    model, _ = fitted
    sweep = model.load_shape_sweep.sort("k")
    assert sweep["k"].to_list() == list(range(2, 11))
    inertia = sweep["inertia"].to_numpy()
    assert np.all(np.diff(inertia) < 0), "inertia must decrease with K"
    sil = sweep["silhouette"].to_numpy()
    assert np.all(np.isfinite(sil)) and np.all((sil > -1) & (sil <= 1))
    assert 3 in sweep["k"].to_list()
    assert model.textbook.k == 3 and len(model.textbook.names) == 3
    assert "K=5" in model.load_shape_choice.reason


def _sweep(rows):
    return pl.DataFrame(
        rows,
        schema={
            "k": pl.Int32,
            "inertia": pl.Float64,
            "silhouette": pl.Float64,
            "davies_bouldin": pl.Float64,
            "calinski_harabasz": pl.Float64,
            "stability_ari": pl.Float64,
            "smallest_cluster": pl.Int64,
        },
        orient="row",
    )


def test_chosen_k_rule_best_silhouette_then_elbow():
    s = SegmentationSettings(silhouette_tie_tolerance=0.01)
    # clear winner
    sweep = _sweep(
        [
            (2, 100.0, 0.20, 1, 1, 0.9, 50),
            (3, 60.0, 0.30, 1, 1, 0.9, 40),
            (4, 50.0, 0.25, 1, 1, 0.9, 30),
            (5, 45.0, 0.1, 1, 1, 0.9, 20),
        ]
    )
    assert choose_load_shape_k(sweep, s).k == 3
    # K=2 and K=4 tied within 0.01: the elbow (K=3 region) decides -> distance |2-3| == |4-3|, smaller K wins
    sweep = _sweep(
        [
            (2, 100.0, 0.300, 1, 1, 0.9, 50),
            (3, 40.0, 0.20, 1, 1, 0.9, 40),
            (4, 35.0, 0.295, 1, 1, 0.9, 30),
            (5, 33.0, 0.1, 1, 1, 0.9, 20),
        ]
    )
    choice = choose_load_shape_k(sweep, s)
    assert choice.k == 2 and "elbow" in choice.reason
    # tie between K=4 and K=5, elbow at K=4
    sweep = _sweep(
        [
            (2, 100.0, 0.1, 1, 1, 0.9, 50),
            (3, 80.0, 0.1, 1, 1, 0.9, 40),
            (4, 20.0, 0.300, 1, 1, 0.9, 30),
            (5, 18.0, 0.305, 1, 1, 0.9, 20),
        ]
    )
    assert choose_load_shape_k(sweep, s).k == 4
    # a K whose smallest cluster is a singleton, or which is unstable, is not eligible
    sweep = _sweep([(2, 100.0, 0.9, 1, 1, 0.9, 1), (3, 60.0, 0.30, 1, 1, 0.2, 40), (4, 50.0, 0.25, 1, 1, 0.9, 30)])
    assert choose_load_shape_k(sweep, s).k == 4


def test_elbow_kneedle():
    ks = np.arange(2, 11)
    inertia = np.array([1000, 400, 150, 130, 120, 112, 105, 100, 96], dtype=float)
    assert elbow_k(ks, inertia) == 4


def test_scale_does_not_leak_into_shape(synthetic, fast_settings):
    features, _ = synthetic
    frame = prepare_features(features)
    shapes = shape_matrix(frame)
    kwh = frame["mean_daily_kwh"].to_numpy()
    base = fit_load_shape(shapes, kwh, 5, fast_settings)
    labels = base.predict(shapes)
    # one household 10x bigger: its kWh columns and even its (un-normalised) profile
    target = frame["household_id"][17]
    scaled = features.with_columns(
        [
            pl.when(pl.col("household_id") == target).then(pl.col(c) * 10).otherwise(pl.col(c)).alias(c)
            for c in (
                "mean_daily_kwh",
                "mean_kwh_per_half_hour",
                "peak_kwh_per_half_hour",
                "base_load_kwh",
                *SHAPE_COLUMNS,
            )
        ]
    )
    frame2 = prepare_features(scaled)
    shapes2 = shape_matrix(frame2)
    refit = fit_load_shape(shapes2, frame2["mean_daily_kwh"].to_numpy(), 5, fast_settings)
    assert np.array_equal(refit.predict(shapes2), labels)
    assert np.array_equal(base.predict(shapes2), labels)
    # the whole population x10 as well
    assert np.array_equal(base.predict(shapes * 10.0), labels)


def test_hourly_resolution(synthetic):
    features, truth = synthetic
    s = SegmentationSettings(load_shape_resolution="hourly", kmeans_n_init=3, load_shape_bootstrap=0, k_max=6)
    frame = prepare_features(features)
    shapes = shape_matrix(frame)
    sweep = sweep_load_shape_k(shapes, s)
    assert sweep["k"].to_list() == [2, 3, 4, 5, 6]
    assert sweep["stability_ari"].null_count() == sweep.height
    pipe = make_load_shape_pipeline(5, s).fit(shapes)
    assert pipe[:-1].transform(shapes).shape == (shapes.shape[0], 24)
    joined = (
        frame.select("household_id").with_columns(pl.Series("c", pipe.predict(shapes))).join(truth, on="household_id")
    )
    assert adjusted_rand_score(joined["archetype"], joined["c"]) >= 0.8


def test_contract_errors(synthetic):
    from assets.model.inputs import FeatureContractError

    features, _ = synthetic
    with pytest.raises(FeatureContractError, match="lacks"):
        prepare_features(features.drop("shape_s05"))
    with pytest.raises(FeatureContractError, match="unique"):
        prepare_features(pl.concat([features.head(2), features.head(1)]))
