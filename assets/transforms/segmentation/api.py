"""One function per asset (no Dagster here): what the lead wires into ``cluster_model``,
``segment_assignments``, ``personas``, ``interventions``, ``dr_targets`` and ``persona_report``.

Every table is validated against its pandera model before it is returned.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from assets.schemas.base import validate
from assets.schemas.cluster_metrics import ClusterMetrics
from assets.schemas.dr_targets import DrTargetComparison
from assets.schemas.dr_targets import DrTargets as DrTargetsSchema
from assets.schemas.interventions import Interventions
from assets.schemas.persona_explanations import PersonaFeatureContrasts, PersonaFeatureTests
from assets.schemas.personas import Personas
from assets.schemas.segment_assignments import SegmentAssignments
from assets.transforms.reporting.html_report import Report, ReportInputs, build_report
from assets.transforms.segmentation.cluster_model import (
    ClusterModel,
    assign_segments,
    cluster_metrics_table,
    fit_cluster_model,
    household_response,
)
from assets.transforms.segmentation.dr_targets import DrTargets, expected_household_reduction, rank_dr_targets
from assets.transforms.segmentation.inputs import prepare_features
from assets.transforms.segmentation.interventions import build_interventions
from assets.transforms.segmentation.model_store import save_model
from assets.transforms.segmentation.personas import PersonaResult, build_personas
from assets.transforms.segmentation.settings import SegmentationSettings


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


def compute_expectations(features: pl.DataFrame, assignments: pl.DataFrame, model: ClusterModel) -> pl.DataFrame:
    """Per-household expected peak reduction (input of interventions, DR targets and report)."""
    return expected_household_reduction(features, assignments, household_response(features, model), model)


def compute_interventions(
    features: pl.DataFrame, assignments: pl.DataFrame, personas: pl.DataFrame, model: ClusterModel
) -> pl.DataFrame:
    expectations = compute_expectations(features, assignments, model)
    return validate(Interventions, build_interventions(personas, expectations, model.settings), "interventions")


def compute_dr_targets(features: pl.DataFrame, assignments: pl.DataFrame, model: ClusterModel) -> DrTargets:
    dr = rank_dr_targets(compute_expectations(features, assignments, model), model.settings)
    dr.targets = validate(DrTargetsSchema, dr.targets, "dr_targets")
    dr.comparison = validate(DrTargetComparison, dr.comparison, "dr_target_comparison")
    return dr


def compute_report(
    features: pl.DataFrame,
    model: ClusterModel,
    assignments: pl.DataFrame,
    personas: PersonaResult,
    interventions: pl.DataFrame,
    dr: DrTargets,
    title: str = "Demand-response personas",
) -> Report:
    """HTML (self-contained), Markdown summary and the PNGs of the persona report."""
    inputs = ReportInputs(
        features=prepare_features(features),
        model=model,
        assignments=assignments,
        personas=personas,
        interventions=interventions,
        dr=dr,
        expectations=compute_expectations(features, assignments, model),
        title=title,
    )
    return build_report(inputs)
