"""Feature layer: baseline lifestyle features, trial-year response (DiD) features, the population
response summary and the household feature table. Pure functions of a DuckDB connection and
:class:`FeatureSettings`; no Dagster import.

Entry points (in dependency order)::

    baseline = compute_baseline_features(con, settings)                  # BaselineResult
    treatment = compute_treatment_features(con, settings, baseline)       # TreatmentResult
    summary = compute_tariff_response_summary(con, treatment, settings)   # TariffResponseSummary
    households = read_households(con, settings)
    table = build_household_features(baseline, treatment, households, settings)  # HouseholdFeaturesResult
    column_lineage("household_features")
    tables = compute_feature_tables(con, settings)   # all of the above, asset name -> frame
"""

import polars as pl

from assets.features.baseline_features import BaselineResult, compute_baseline_features
from assets.features.household_features import HouseholdFeaturesResult, build_household_features
from assets.features.lifestyle import compute_lifestyle_features
from assets.features.lineage import column_lineage
from assets.features.placebo import compute_placebo_effect, compute_placebo_event_responses
from assets.features.response_summary import TariffResponseSummary, compute_tariff_response_summary
from assets.features.settings import FeatureSettings
from assets.features.significance import benjamini_hochberg, empirical_p_values
from assets.features.treatment_features import (
    TreatmentResult,
    compute_treatment_features,
    read_households,
)

__all__ = [
    "BaselineResult",
    "FeatureSettings",
    "HouseholdFeaturesResult",
    "TariffResponseSummary",
    "TreatmentResult",
    "benjamini_hochberg",
    "build_household_features",
    "column_lineage",
    "compute_baseline_features",
    "compute_feature_tables",
    "compute_lifestyle_features",
    "compute_placebo_effect",
    "compute_placebo_event_responses",
    "compute_tariff_response_summary",
    "compute_treatment_features",
    "empirical_p_values",
    "read_households",
]


def compute_feature_tables(source, settings: FeatureSettings) -> dict[str, pl.DataFrame]:
    """Every feature table (asset name -> frame, not validated) computed from ``source``: the warehouse
    connection, or with METER_ENGINE=spark the lake's Spark connection (``duck.lake_connection``)."""
    baseline = compute_baseline_features(source, settings)
    treatment = compute_treatment_features(source, settings, baseline)
    summary = compute_tariff_response_summary(source, treatment, settings)
    households = read_households(source, settings)
    household = build_household_features(baseline, treatment, households, settings)
    return {
        "baseline_features": baseline.features,
        "baseline_exclusions": baseline.exclusions,
        "normal_day_lifestyle": treatment.normal_day_lifestyle,
        "treatment_features": treatment.features,
        "treatment_event_responses": treatment.event_responses,
        "comparison_balance": treatment.balance,
        "placebo_draws": summary.placebo_draws,
        "tariff_response_summary": summary.effects,
        "response_checks": summary.checks,
        "responder_share_curve": summary.responder_curve,
        "household_features": household.features,
        "household_feature_exclusions": household.exclusions,
    }
