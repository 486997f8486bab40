"""One function per report asset (no Dagster here): ``interventions``, ``dr_targets`` and
``persona_report``.

Every table is validated against its pandera model before it is returned.
"""

from __future__ import annotations

import polars as pl

from assets.common.table_model import validate
from assets.model.cluster_model import ClusterModel, household_response
from assets.model.inputs import prepare_features
from assets.model.personas import PersonaResult
from assets.model.response_model import ResponseModelScores, capture_curve
from assets.model.segmentation_history import Drift
from assets.reports.data_confidence import DataConfidence, read_data_confidence  # noqa: F401
from assets.reports.dr_targets import DrTargets, rank_dr_targets
from assets.reports.expected_kw import add_evening_response, expected_household_reduction, score_response_model
from assets.reports.heldout_comparison import heldout_event_comparison
from assets.reports.html_report import Report, build_report
from assets.reports.interventions import build_interventions
from assets.reports.profiles import PersonaProfiles, read_persona_kw_profiles  # noqa: F401
from assets.reports.report_tables import ReportInputs
from assets.reports.schemas.dr_targets import DrTargetComparison
from assets.reports.schemas.dr_targets import DrTargets as DrTargetsSchema
from assets.reports.schemas.interventions import Interventions


def with_evening_response(con, run):
    """``run`` (model.tables.SegmentationInputs) with the evening-event response columns added to its
    features (dr_targets.add_evening_response: the expected kW is computed at the evening peak)."""
    from dataclasses import replace

    return replace(run, features=add_evening_response(con, run.features))


def compute_expectations(features: pl.DataFrame, assignments: pl.DataFrame, model: ClusterModel) -> pl.DataFrame:
    """Per-household expected peak reduction (input of interventions, DR targets and report)."""
    response = household_response(features, model)
    _, predicted = score_response_model(features, assignments, response, model)
    return expected_household_reduction(features, assignments, response, model, predicted)


def compute_response_model(
    features: pl.DataFrame, assignments: pl.DataFrame, model: ClusterModel
) -> tuple[ResponseModelScores, pl.DataFrame]:
    """Repeated-CV scores of the response model against the peak-load rule, the segment prior and the textbook
    rule (with the permutation null), and the out-of-fold capture curve of the four rules (first CV repeat)."""
    scores, _ = score_response_model(features, assignments, household_response(features, model), model)
    curve = capture_curve(scores.oof)
    measured_on = (
        f"{scores.n_measured} measured ToU households, held out in K-fold cross-validation over households "
        "(first repeat)"
    )
    nothing = pl.lit(None, pl.Float64)
    return scores, curve.with_columns(
        nothing.alias("cumulative_kw_ci_low"),
        nothing.alias("cumulative_kw_ci_high"),
        nothing.alias("minus_peak_load_kw"),
        nothing.alias("minus_peak_load_ci_low"),
        nothing.alias("minus_peak_load_ci_high"),
        pl.lit(measured_on, pl.String).alias("measured_on"),
    )


def compute_interventions(
    features: pl.DataFrame, assignments: pl.DataFrame, personas: pl.DataFrame, model: ClusterModel
) -> pl.DataFrame:
    expectations = compute_expectations(features, assignments, model)
    return validate(Interventions, build_interventions(personas, expectations, model.settings), "interventions")


def compute_dr_targets(
    features: pl.DataFrame,
    assignments: pl.DataFrame,
    model: ClusterModel,
    heldout_rows: pl.DataFrame | None = None,
) -> DrTargets:
    """The DR target ranking and rule comparison; ``heldout_rows`` (dr_targets.read_heldout_event_rows)
    adds the comparison on held-out events (dr.heldout; its capture curve in dr.heldout.curve)."""
    expectations = compute_expectations(features, assignments, model)
    heldout = (
        None if heldout_rows is None else heldout_event_comparison(heldout_rows, features, expectations, model.settings)
    )
    dr = rank_dr_targets(expectations, model.settings, heldout)
    dr.heldout = heldout
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
    drift: Drift | None = None,
    data: DataConfidence | None = None,
    response_scores: pl.DataFrame | None = None,
    capture: pl.DataFrame | None = None,
    profiles: PersonaProfiles | None = None,
    month_over_month=None,
) -> Report:
    """HTML (self-contained), Markdown summary and the PNGs of the persona report; ``drift``: persona
    drift since the previous segmentation (None: no earlier segmentation to compare with)."""
    inputs = ReportInputs(
        features=prepare_features(features),
        model=model,
        assignments=assignments,
        personas=personas,
        interventions=interventions,
        dr=dr,
        expectations=compute_expectations(features, assignments, model),
        title=title,
        drift=drift,
        data=data,
        response_scores=response_scores,
        capture=capture,
        profiles=profiles,
        month_over_month=month_over_month,
    )
    return build_report(inputs)
