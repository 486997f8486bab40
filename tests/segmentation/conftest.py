"""Fixtures of the segmentation tests (data builders are in seg_synthetic.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
for p in (HERE.parents[1], HERE):  # repo root (for `assets`) and this folder (for seg_synthetic)
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from seg_synthetic import make_household_features  # noqa: E402


@pytest.fixture(scope="session")
def feature_builder():
    return make_household_features


@pytest.fixture(scope="session")
def fast_settings():
    from assets.model.settings import SegmentationSettings

    return SegmentationSettings(
        random_state=7, kmeans_n_init=4, n_bootstrap=3, load_shape_bootstrap=2, gmm_n_init=1, persona_k_max=7
    )


@pytest.fixture(scope="session")
def synthetic(feature_builder):
    return feature_builder()


@pytest.fixture(scope="session")
def fitted(synthetic, fast_settings):
    from assets.model.cluster_model import assign_segments, fit_cluster_model

    features, _ = synthetic
    model = fit_cluster_model(features, fast_settings)
    return model, assign_segments(features, model)


@pytest.fixture(scope="session")
def outputs(synthetic, fitted):
    """Every asset output on the synthetic population (validated by the api functions)."""
    from assets.model import api
    from assets.reports import api as report_api

    features, _ = synthetic
    model, assignments = fitted
    personas = api.compute_personas(features, assignments, model)
    interventions = report_api.compute_interventions(features, assignments, personas.personas, model)
    dr = report_api.compute_dr_targets(features, assignments, model)
    expectations = report_api.compute_expectations(features, assignments, model)
    return {
        "features": features,
        "model": model,
        "assignments": assignments,
        "personas": personas,
        "interventions": interventions,
        "dr": dr,
        "expectations": expectations,
    }
