"""Persisting the model: save/load round trip, version, data fingerprint."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from assets.model.cluster_model import assign_segments, training_columns
from assets.model.fingerprint import fingerprint_frame
from assets.model.inputs import prepare_features
from assets.model.model_store import load_model, save_model
from tests.model.seg_synthetic import assert_same_assignments


def test_save_load_round_trip(tmp_path, fitted, synthetic):
    model, assignments = fitted
    features, _ = synthetic
    path = save_model(model, tmp_path / "models" / "cluster_model.joblib")
    loaded = load_model(path, expected_fingerprint=model.fingerprint)
    assert loaded.version == model.version and loaded.fingerprint == model.fingerprint
    assert_same_assignments(assign_segments(features, loaded), assignments)
    meta = json.loads((tmp_path / "models" / "cluster_model.joblib.json").read_text())
    assert meta["version"] == model.version
    assert meta["fingerprint_sha256"] == model.fingerprint and len(model.fingerprint) == 64
    assert meta["load_shape"]["k"] == model.load_shape.k
    assert meta["behaviour"]["k"] == model.behaviour.k and meta["behaviour"]["family"] == model.behaviour.family
    assert meta["behaviour"]["metrics"]["silhouette"] > 0
    assert meta["random_state"] == model.settings.random_state
    with pytest.raises(ValueError, match="trained on data"):
        load_model(path, expected_fingerprint="0" * 64)
    (tmp_path / "junk.joblib").write_bytes(b"")
    import joblib

    joblib.dump({"not": "a model"}, tmp_path / "junk.joblib")
    with pytest.raises(TypeError):
        load_model(tmp_path / "junk.joblib")


def test_fingerprint_properties(synthetic, fast_settings):
    features, _ = synthetic
    cols = training_columns(fast_settings, features)
    base = fingerprint_frame(prepare_features(features), cols)
    shuffled = features.sample(fraction=1.0, shuffle=True, seed=1)
    assert fingerprint_frame(prepare_features(shuffled), cols) == base
    # dtype width does not matter, values do
    as_f32 = features.with_columns(pl.col("evening_peak_hour").cast(pl.Float64))
    assert fingerprint_frame(prepare_features(as_f32), cols) == base
    changed = features.with_columns(
        pl.when(pl.int_range(pl.len()) == 3)
        .then(pl.col("night_share") * (1 + 1e-6))
        .otherwise(pl.col("night_share"))
        .alias("night_share")
    )
    assert fingerprint_frame(prepare_features(changed), cols) != base
    renamed = features.with_columns(pl.col("acorn").fill_null("ACORN-Z"))
    assert fingerprint_frame(prepare_features(renamed), cols) != base
    # null and NaN and -0.0 are canonical
    a = pl.DataFrame({"household_id": ["a", "b"], "x": [0.0, None]})
    b = pl.DataFrame({"household_id": ["a", "b"], "x": [-0.0, float("nan")]})
    assert fingerprint_frame(a, ["x"]) == fingerprint_frame(b, ["x"])
    assert np.isfinite(len(base))


def test_fingerprint_ignores_summation_noise_and_sees_a_real_change(synthetic, fast_settings):
    """An identical re-run whose sums were added in another order differs by ~1e-13 relative: same
    fingerprint. A change of 1e-6 relative in one value of one household: another fingerprint."""
    features, _ = synthetic
    prepared = prepare_features(features)
    cols = training_columns(fast_settings, features)
    numeric = [c for c in cols if prepared[c].dtype.is_float()]
    assert len(numeric) >= 10 and prepared.height >= 50
    rng = np.random.default_rng(7)

    def times(relative: float) -> list[pl.Series]:
        return [
            prepared[c]
            * (1 + relative * rng.choice([-1.0, 1.0], prepared.height) * rng.uniform(0.5, 1.0, prepared.height))
            for c in numeric
        ]

    base = fingerprint_frame(prepared, cols)
    noisy = prepared.with_columns(times(1e-13))
    assert not noisy.select(numeric).equals(prepared.select(numeric))  # the noise is there, bit for bit
    assert fingerprint_frame(noisy, cols) == base
    for column in (numeric[0], numeric[-1]):
        row = int(prepared.select((pl.col(column).is_finite() & (pl.col(column) != 0)).arg_max()).item())
        one = prepared.with_columns(
            pl.when(pl.int_range(pl.len()) == row).then(pl.col(column) * (1 + 1e-6)).otherwise(pl.col(column))
        )
        assert fingerprint_frame(one, cols) != base, column
