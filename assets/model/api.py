"""One function per model asset (no Dagster here): ``cluster_model``, ``segment_assignments`` and
``personas``.

Every table is validated against its pandera model before it is returned.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from assets.common.table_model import validate
from assets.model.cluster_model import (
    ClusterModel,
    assign_segments,
    cluster_metrics_table,
    fit_cluster_model,
    household_response,
)
from assets.model.inputs import prepare_features
from assets.model.model_store import save_model
from assets.model.persona_explanation import outside_explanation_sentence  # noqa: F401  (re-exported for the asset)
from assets.model.personas import PersonaResult, build_personas
from assets.model.schemas.cluster_metrics import ClusterMetrics
from assets.model.schemas.persona_explanations import PersonaFeatureContrasts, PersonaFeatureTests
from assets.model.schemas.personas import Personas
from assets.model.schemas.segment_assignments import SegmentAssignments
from assets.model.settings import SegmentationSettings


def compute_cluster_model(
    features: pl.DataFrame, settings: SegmentationSettings | None = None, path: str | Path | None = None
) -> tuple[ClusterModel, pl.DataFrame]:
    """Fit (and optionally persist) the model; returns it with its validated metrics table."""
    model = fit_cluster_model(features, settings or SegmentationSettings())
    if path is not None:
        save_model(model, path)
    return model, validate(ClusterMetrics, cluster_metrics_table(model), "cluster_metrics")


def compute_segment_assignments(features: pl.DataFrame, model: ClusterModel) -> pl.DataFrame:
    return validate(SegmentAssignments, assign_segments(features, model), "segment_assignments")


def compute_personas(features: pl.DataFrame, assignments: pl.DataFrame, model: ClusterModel) -> PersonaResult:
    result = build_personas(
        prepare_features(features),
        assignments,
        household_response(features, model),
        model.catalogue,
        model.settings,
    )
    result.personas = validate(Personas, result.personas, "personas")
    result.tests = validate(PersonaFeatureTests, result.tests, "persona_feature_tests")
    result.contrasts = validate(PersonaFeatureContrasts, result.contrasts, "persona_feature_contrasts")
    return result
